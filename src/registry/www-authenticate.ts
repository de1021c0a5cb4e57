/**
 * Parser for WWW-Authenticate headers (RFC 7235). Registries send
 *   Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:ai/x:pull,push"
 * where quoted values hold commas, so splitting on ',' is wrong; this walks the header as tokens.
 */

export interface Challenge {
  /** Lower-cased scheme: "bearer", "basic". */
  scheme: string;
  /** Parameters with lower-cased names and unquoted values. */
  params: Record<string, string>;
}

const TOKEN_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

class Cursor {
  pos = 0;
  constructor(readonly text: string) {}

  get done(): boolean {
    return this.pos >= this.text.length;
  }

  peek(): string {
    return this.text[this.pos] ?? '';
  }

  skipSpace(): void {
    while (!this.done && /[ \t]/.test(this.peek())) this.pos++;
  }

  skipSeparators(): void {
    while (!this.done && /[ \t,]/.test(this.peek())) this.pos++;
  }

  token(): string {
    const start = this.pos;
    while (!this.done && TOKEN_CHAR.test(this.peek())) this.pos++;
    return this.text.slice(start, this.pos);
  }

  /** A quoted-string with backslash escapes; an unterminated one runs to the end. */
  quoted(): string {
    this.pos++; // opening quote
    let value = '';
    while (!this.done) {
      const c = this.text[this.pos++]!;
      if (c === '"') return value;
      if (c === '\\' && !this.done) value += this.text[this.pos++];
      else value += c;
    }
    return value;
  }
}

/** Parses every challenge in a header; unknown or malformed parts are skipped, never thrown. */
export function parseWwwAuthenticate(header: string | string[] | undefined): Challenge[] {
  if (header === undefined) return [];
  const headers = Array.isArray(header) ? header : [header];
  const challenges: Challenge[] = [];
  for (const text of headers) {
    const cursor = new Cursor(text);
    let current: Challenge | undefined;
    while (true) {
      cursor.skipSeparators();
      if (cursor.done) break;
      const word = cursor.token();
      if (word === '') {
        cursor.pos++; // a stray character: skip it rather than loop forever
        continue;
      }
      cursor.skipSpace();
      if (cursor.peek() === '=' && current) {
        cursor.pos++;
        cursor.skipSpace();
        const value = cursor.peek() === '"' ? cursor.quoted() : cursor.token();
        current.params[word.toLowerCase()] = value;
        continue;
      }
      // Not followed by '=': a new scheme starts here.
      current = { scheme: word.toLowerCase(), params: {} };
      challenges.push(current);
    }
  }
  return challenges;
}
