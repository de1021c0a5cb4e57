/**
 * Registry authentication: anonymous until a registry says otherwise, then Basic or the
 * Bearer token flow of the distribution token spec. What each registry asked for is
 * remembered, so later requests send credentials up front instead of collecting a 401 each.
 * Tokens are cached per (realm, service, scope) until shortly before they expire and renewed
 * when a registry refuses them. Secrets never reach a log line or an error message.
 */
import { AppError } from '../errors.js';
import type { Logger } from '../log.js';
import { SingleFlight } from '../util/single-flight.js';
import { RegistryAddressPolicy } from './address-policy.js';
import { type RegistryClock, systemRegistryClock } from './clock.js';
import { basicAuthorization, type CredentialStore, mayCarryCredentials, plainHttpRefusal } from './credentials.js';
import { type HttpTransport, networkError, readBody } from './http.js';
import { errorForResponse } from './registry-errors.js';
import { parseWwwAuthenticate } from './www-authenticate.js';

/** Lifetime the token spec prescribes when the server does not say. */
export const DEFAULT_TOKEN_LIFETIME_S = 60;
const TOKEN_BODY_LIMIT = 1 << 20;

/** Who is asking for what: the scope a token must cover. */
export interface AuthTarget {
  /** Registry as in Reference.registry; keys the remembered scheme and the credentials. */
  registry: string;
  /** Where the registry is reached ("https://registry-1.docker.io"): Basic credentials go there only if it is safe. */
  url: URL;
  repository: string;
  /** "pull" to read, "pull,push" to write. */
  actions: 'pull' | 'pull,push';
  /** A token supplied with the request; sent as is, never exchanged. */
  bearerToken?: string;
}

type Scheme = { kind: 'basic' } | { kind: 'bearer'; realm: string; service?: string };

interface CachedToken {
  token: string;
  expiresAt: number;
}

export interface AuthenticatorOptions {
  credentials: CredentialStore;
  transport: HttpTransport;
  /** Judges token realms by where they point. Defaults to a RegistryAddressPolicy on dns.lookup. */
  addressPolicy?: RegistryAddressPolicy;
  /** Decides when a cached token has expired. Defaults to the system clock. */
  clock?: RegistryClock;
  logger?: Logger;
}

export function scopeOf(target: AuthTarget): string {
  return `repository:${target.repository}:${target.actions}`;
}

export class Authenticator {
  private readonly schemes = new Map<string, Scheme>();
  private readonly tokens = new Map<string, CachedToken>();
  private readonly fetches = new SingleFlight<string, string>();
  private readonly addressPolicy: RegistryAddressPolicy;
  private readonly clock: RegistryClock;

  constructor(private readonly options: AuthenticatorOptions) {
    this.addressPolicy = options.addressPolicy ?? new RegistryAddressPolicy();
    this.clock = options.clock ?? systemRegistryClock;
  }

  /** The Authorization header to send before any challenge, or undefined to go anonymous. */
  async authorizationFor(target: AuthTarget, signal?: AbortSignal): Promise<string | undefined> {
    if (target.bearerToken) return `Bearer ${target.bearerToken}`;
    const scheme = this.schemes.get(target.registry);
    if (scheme === undefined) return undefined;
    if (scheme.kind === 'basic') {
      const credentials = await this.options.credentials.lookup(target.registry);
      if (credentials && !mayCarryCredentials(target.url)) throw plainHttpRefusal(target.url, target.registry);
      return credentials ? basicAuthorization(credentials) : undefined;
    }
    return `Bearer ${await this.bearerToken(scheme, target, [], signal)}`;
  }

  /**
   * Answers a 401: learns the scheme from WWW-Authenticate and returns the header to retry
   * with. Throws 'unauthorized' when retrying cannot help (no credentials, or the ones just
   * sent were refused).
   */
  async answerChallenge(target: AuthTarget, wwwAuthenticate: string | string[] | undefined, sent: string | undefined, signal?: AbortSignal): Promise<string> {
    const where = `registry ${target.registry} (repository ${target.repository})`;
    if (target.bearerToken) throw new AppError('unauthorized', `${where} refused the bearer token sent with the request`);
    const challenges = parseWwwAuthenticate(wwwAuthenticate);
    const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params.realm);
    if (bearer) {
      const scheme: Scheme = { kind: 'bearer', realm: bearer.params.realm!, service: bearer.params.service };
      this.schemes.set(target.registry, scheme);
      const key = this.cacheKey(scheme, target);
      const cached = this.tokens.get(key);
      // A refused token (expired early, revoked, insufficient_scope) must not be offered again.
      if (cached && (sent === `Bearer ${cached.token}` || bearer.params.error === 'insufficient_scope')) this.tokens.delete(key);
      const extra = bearer.params.scope ? bearer.params.scope.split(' ').filter((s) => s !== scopeOf(target)) : [];
      return `Bearer ${await this.bearerToken(scheme, target, extra, signal)}`;
    }
    if (challenges.some((c) => c.scheme === 'basic')) {
      this.schemes.set(target.registry, { kind: 'basic' });
      const credentials = await this.options.credentials.lookup(target.registry);
      if (!credentials) throw new AppError('unauthorized', `${where} requires authentication and no credentials are configured`);
      if (!mayCarryCredentials(target.url)) throw plainHttpRefusal(target.url, target.registry);
      const header = basicAuthorization(credentials);
      if (sent === header) throw new AppError('unauthorized', `${where} refused the credentials of user "${credentials.username}"`);
      return header;
    }
    throw new AppError('unauthorized', `${where} answered 401 without a usable WWW-Authenticate challenge`);
  }

  private cacheKey(scheme: { realm: string; service?: string }, target: AuthTarget): string {
    return JSON.stringify([scheme.realm, scheme.service ?? '', scopeOf(target)]);
  }

  private async bearerToken(scheme: { realm: string; service?: string }, target: AuthTarget, extraScopes: string[], signal?: AbortSignal): Promise<string> {
    const key = this.cacheKey(scheme, target);
    const cached = this.tokens.get(key);
    if (cached && cached.expiresAt > this.clock.now()) return cached.token;
    return this.fetches.run(key, async () => {
      const fresh = await this.fetchToken(scheme, target, extraScopes, signal);
      this.tokens.set(key, fresh);
      return fresh.token;
    });
  }

  private async fetchToken(scheme: { realm: string; service?: string }, target: AuthTarget, extraScopes: string[], signal?: AbortSignal): Promise<CachedToken> {
    let url: URL;
    try {
      url = new URL(scheme.realm);
    } catch (err) {
      throw new AppError('upstream', `registry ${target.registry} named an invalid token realm ${JSON.stringify(scheme.realm)}`, { cause: err });
    }
    if (scheme.service) url.searchParams.set('service', scheme.service);
    for (const scope of [scopeOf(target), ...extraScopes]) url.searchParams.append('scope', scope);
    // The realm is the registry's choice: it must not point us at this machine's neighbours.
    const guard = await this.addressPolicy.guardFor(target.registry, target.url.hostname, 'token realm');
    const credentials = await this.options.credentials.lookup(target.registry);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (credentials) {
      if (!mayCarryCredentials(url)) throw plainHttpRefusal(url, target.registry);
      url.searchParams.set('account', credentials.username);
      headers.authorization = basicAuthorization(credentials);
    }
    const what = `token server ${url.origin} (scope ${scopeOf(target)})`;
    let response;
    try {
      ({ response } = await this.options.transport.sendFollowingRedirects({ method: 'GET', url, headers, signal, guard }));
    } catch (err) {
      throw networkError(err, what, signal);
    }
    if (response.statusCode !== 200) throw await errorForResponse(response, what);
    const body = await readBody(response, TOKEN_BODY_LIMIT, `answer of ${what}`);
    let parsed: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      parsed = JSON.parse(body.toString('utf8')) as typeof parsed;
    } catch (err) {
      throw new AppError('upstream', `${what} answered with something that is not JSON`, { cause: err });
    }
    const token = typeof parsed.token === 'string' && parsed.token ? parsed.token : parsed.access_token;
    if (typeof token !== 'string' || token === '') throw new AppError('upstream', `${what} answered without a token`);
    const lifetimeS = typeof parsed.expires_in === 'number' && parsed.expires_in > 0 ? parsed.expires_in : DEFAULT_TOKEN_LIFETIME_S;
    // Renew a little early so that a token does not expire between our check and the registry's.
    const margin = Math.min(10_000, lifetimeS * 100);
    this.options.logger?.debug('registry token obtained', { realm: scheme.realm, scope: scopeOf(target), expiresInS: lifetimeS, account: credentials?.username });
    return { token, expiresAt: this.clock.now() + lifetimeS * 1000 - margin };
  }
}
