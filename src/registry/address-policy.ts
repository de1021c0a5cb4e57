/**
 * Where a registry may send us. A token realm or a redirect is a URL the registry chose, so a
 * hostile registry could point it at the machine's own services (a cloud metadata endpoint on
 * 169.254.169.254, an admin port on 127.0.0.1, a database on 10.x). Such internal addresses are
 * refused unless the registry itself lives in one (a mirror on the LAN, a test registry on
 * loopback), where they are its own neighbourhood. Names are judged by what they resolve to, at
 * the moment of connecting (the guard is the socket's DNS lookup), so a name that resolves
 * elsewhere the second time cannot slip through between a check and the connection.
 */
import dns, { type LookupAddress, type LookupOptions } from 'node:dns';
import net from 'node:net';
import { AppError } from '../errors.js';

/** What kind of internal range an address is in; undefined for a public address. */
export type InternalRange = 'loopback' | 'private' | 'link-local' | 'unique-local' | 'unspecified';

/** How long the verdict on a registry's own address is kept. */
const REGISTRY_VERDICT_TTL_MS = 60_000;

function ipv4Range(ip: string): InternalRange | undefined {
  const [a, b] = ip.split('.').map(Number) as [number, number];
  if (a === 127) return 'loopback';
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return 'private';
  if (a === 169 && b === 254) return 'link-local';
  if (a === 0) return 'unspecified';
  return undefined;
}

/** The internal range `address` (an IPv4 or IPv6 literal, brackets allowed) is in, or undefined. */
export function internalRangeOf(address: string): InternalRange | undefined {
  // A zone ("fe80::1%eth0", as getaddrinfo may answer) says which interface, not which range.
  const ip = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '').toLowerCase();
  const family = net.isIP(ip);
  if (family === 4) return ipv4Range(ip);
  if (family !== 6) return undefined;
  // The URL parser writes IPv6 in its one canonical short form ("0:0::1" becomes "::1").
  const canonical = new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  if (canonical === '::1') return 'loopback';
  if (canonical === '::') return 'unspecified';
  // An IPv4 address written as IPv6 (::ffff:127.0.0.1 is canonically ::ffff:7f00:1) is that IPv4 address.
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (mapped) {
    const hi = parseInt(mapped[1]!, 16);
    const lo = parseInt(mapped[2]!, 16);
    return ipv4Range(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`);
  }
  const first = parseInt(canonical.split(':')[0] || '0', 16);
  if ((first & 0xffc0) === 0xfe80) return 'link-local';
  if ((first & 0xfe00) === 0xfc00) return 'unique-local';
  return undefined;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
/** The shape of net.connect's and http.request's `lookup` option. */
export type LookupFunction = (hostname: string, options: LookupOptions, callback: LookupCallback) => void;

/** Refuses internal addresses for URLs a registry chose; `allowInternal` when the registry is internal itself. */
export class AddressGuard {
  /**
   * `registry` names the registry in messages; `purpose` says what the URL was ("token realm",
   * "redirect"); `allowInternal` lets everything through.
   */
  constructor(
    readonly registry: string,
    readonly purpose: string,
    readonly allowInternal: boolean,
  ) {}

  /** The error for `shown` (a URL's host, with its port when known), whose `hostname` reaches `address` in `range`. */
  refusal(shown: string, hostname: string, address: string, range: InternalRange): AppError {
    const resolved = hostname.replace(/^\[|\]$/g, '') === address ? '' : ` resolves to ${address}, which`;
    return new AppError(
      'forbidden',
      `refusing the ${this.purpose} ${shown} named by registry ${this.registry}: ${hostname}${resolved} is a ${range} address, and only a registry that itself lives in such a range may send us there`,
      { data: { host: hostname, address, range } },
    );
  }

  /** Checks a URL whose host is an IP literal (no lookup happens for those); names are checked by `lookup`. */
  checkLiteral(url: URL): void {
    if (this.allowInternal) return;
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (net.isIP(host) === 0) return;
    const range = internalRangeOf(host);
    if (range) throw this.refusal(url.host, host, host, range);
  }

  /**
   * For a URL a proxy will connect to on our behalf, where no lookup of ours guards the socket:
   * checks what the name resolves to here, now. A name that does not resolve here is left to
   * the proxy (networks behind a proxy often resolve only their own names); the remaining gap,
   * a name that resolves differently at the proxy, is the proxy's to guard.
   */
  async checkResolved(url: URL): Promise<void> {
    if (this.allowInternal) return;
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (net.isIP(host) !== 0) return this.checkLiteral(url);
    let addresses: LookupAddress[];
    try {
      addresses = await dns.promises.lookup(host, { all: true });
    } catch {
      return;
    }
    for (const { address } of addresses) {
      const range = internalRangeOf(address);
      if (range) throw this.refusal(url.host, host, address, range);
    }
  }

  /** A DNS lookup for the connection that fails when the name resolves into an internal range. */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    dns.lookup(hostname, { ...options }, ((err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => {
      if (err || this.allowInternal) return callback(err, address, family);
      const all = Array.isArray(address) ? address.map((a) => a.address) : [address];
      for (const a of all) {
        const range = internalRangeOf(a);
        if (range) return callback(this.refusal(hostname, hostname, a, range) as unknown as NodeJS.ErrnoException, address, family);
      }
      callback(null, address, family);
    }) as never);
  };
}

/**
 * Decides whether registries live in internal ranges: a literal is judged as is, a name by every
 * address it resolves to (all of them internal). Verdicts are kept a minute.
 */
export class RegistryAddressPolicy {
  private readonly verdicts = new Map<string, { internal: Promise<boolean>; until: number }>();

  /** `resolve` lists a host's addresses. Defaults to dns.lookup with `all`. */
  constructor(private readonly resolve: (host: string) => Promise<string[]> = resolveAll) {}

  /** Whether `host` (a URL hostname, brackets allowed) is in an internal range. */
  isInternal(host: string): Promise<boolean> {
    const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
    if (net.isIP(bare) !== 0) return Promise.resolve(internalRangeOf(bare) !== undefined);
    const cached = this.verdicts.get(bare);
    if (cached && cached.until > Date.now()) return cached.internal;
    const internal = this.resolve(bare).then(
      (addresses) => addresses.length > 0 && addresses.every((a) => internalRangeOf(a) !== undefined),
      // A registry we cannot resolve is not reached either; judged public, nothing is lost.
      () => false,
    );
    this.verdicts.set(bare, { internal, until: Date.now() + REGISTRY_VERDICT_TTL_MS });
    return internal;
  }

  /** The guard for URLs that `registry` (reached at `host`) names for `purpose`. */
  async guardFor(registry: string, host: string, purpose: string): Promise<AddressGuard> {
    return new AddressGuard(registry, purpose, await this.isInternal(host));
  }
}

async function resolveAll(host: string): Promise<string[]> {
  const addresses = await dns.promises.lookup(host, { all: true });
  return addresses.map((a) => a.address);
}
