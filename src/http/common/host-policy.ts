/**
 * Which Host headers the TCP listener answers, against DNS rebinding: a page on evil.example whose
 * name is re-pointed at 127.0.0.1 reaches the port with `Host: evil.example`, so a name that is
 * not ours is refused even though the connection is local. Allowed:
 *
 * - `localhost` and loopback addresses (127.0.0.0/8, ::1), which no outside name can pose as;
 * - the address the listener is bound to, and the local address the client actually connected
 *   to (so a server bound to 0.0.0.0 answers `http://192.168.1.5:12434`): an IP literal in Host
 *   means the browser's origin is that address, which is not rebinding;
 * - the names the operator lists (--allowed-hosts): exact names, `*.example.com` for any
 *   subdomain, or `*` to turn the check off.
 *
 * The port in Host is ignored; names compare case-insensitively and without a trailing dot.
 */
import net from 'node:net';

/** Wildcard bind addresses, which name no single address a client could send in Host. */
const ANY_ADDRESSES = new Set(['0.0.0.0', '::', '']);

/** The host part of a Host header value, lowercased, without port, brackets or trailing dot. */
export function hostnameOf(hostHeader: string): string {
  let host = hostHeader.trim().toLowerCase();
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    host = end < 0 ? host.slice(1) : host.slice(1, end);
  } else if (host.indexOf(':') === host.lastIndexOf(':')) {
    // One colon at most: a name or IPv4 with a port. More colons would be a bare IPv6 address.
    host = host.replace(/:\d*$/, '');
  }
  return host.replace(/\.$/, '');
}

/** An IPv4-mapped IPv6 address (::ffff:1.2.3.4) as the IPv4 address it carries. */
function unmapped(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1]! : address;
}

const LOOPBACK = new net.BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** True for localhost and loopback IP addresses (127.0.0.0/8, ::1 in any spelling, mapped IPv4). */
export function isLoopbackHost(host: string): boolean {
  const name = unmapped(hostnameOf(host));
  if (name === 'localhost') return true;
  const family = net.isIP(name);
  return family !== 0 && LOOPBACK.check(name, family === 4 ? 'ipv4' : 'ipv6');
}

export interface HostPolicyOptions {
  /** The address the TCP listener binds (--host). */
  boundHost: string;
  /** Extra names from --allowed-hosts. Defaults to none. */
  allowedHosts?: readonly string[];
}

/**
 * Returns a predicate over (Host header, local address of the connection) that says whether the
 * request may proceed. A missing Host is refused: every browser sends one, and so does HTTP/1.1.
 */
export function createHostPolicy(options: HostPolicyOptions): (hostHeader: string | undefined, localAddress: string | undefined) => boolean {
  const entries = (options.allowedHosts ?? []).map((h) => h.trim().toLowerCase()).filter((h) => h !== '');
  if (entries.includes('*')) return () => true;
  const exact = new Set(entries.filter((h) => !h.startsWith('*.')).map(hostnameOf));
  const suffixes = entries.filter((h) => h.startsWith('*.')).map((h) => hostnameOf(h.slice(1)));
  const bound = unmapped(hostnameOf(options.boundHost));
  if (!ANY_ADDRESSES.has(bound)) exact.add(bound);

  return (hostHeader, localAddress) => {
    if (hostHeader === undefined || hostHeader.trim() === '') return false;
    const name = unmapped(hostnameOf(hostHeader));
    if (isLoopbackHost(name) || exact.has(name)) return true;
    if (localAddress !== undefined && net.isIP(name) !== 0 && name === unmapped(localAddress.toLowerCase())) return true;
    return suffixes.some((suffix) => name.endsWith(suffix) && name.length > suffix.length);
  };
}
