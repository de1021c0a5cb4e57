/**
 * One authenticated request to a registry's /v2/ API: picks http or https, sends what the
 * authenticator knows up front, answers one or two 401 challenges, and follows redirects by
 * hand. Callers get the final response whatever its status and decide what it means.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { Logger } from '../log.js';
import { RegistryAddressPolicy } from './address-policy.js';
import { type AuthTarget, Authenticator } from './auth.js';
import type { RegistryClock } from './clock.js';
import type { CredentialStore } from './credentials.js';
import { type BodyResponse, type FollowedResponse, type HttpTransport, networkError, type RedirectOptions } from './http.js';
import { usesPlainHttp } from './reference.js';
import { DEFAULT_STALL_POLICY, type StallPolicy } from './stall-guard.js';
import type { PullAuth, Reference } from './types.js';

export const USER_AGENT = 'model-runner';

export interface RegistryRequest {
  ref: Reference;
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  /** Path below /v2/<repository>/, e.g. "manifests/latest"; ignored when `url` is given. */
  path?: string;
  /** An absolute URL on the registry (an upload Location). */
  url?: URL;
  headers?: OutgoingHttpHeaders;
  /** Makes the body; called again for each retry after a challenge, so streams are fresh. */
  body?: () => Buffer | NodeJS.ReadableStream;
  actions: AuthTarget['actions'];
  auth?: PullAuth;
  signal?: AbortSignal;
  /** Follow redirects (GET and HEAD). Defaults to true for requests without a body. */
  followRedirects?: boolean;
}

export interface RegistrySessionOptions {
  transport: HttpTransport;
  credentials: CredentialStore;
  /** Registries reached over plain HTTP besides loopback. Defaults to none. */
  insecureRegistries?: readonly string[];
  /** Judges redirects and token realms by where they point. Defaults to a RegistryAddressPolicy on dns.lookup. */
  addressPolicy?: RegistryAddressPolicy;
  /** How slow a response body may be before it is abandoned. Defaults to DEFAULT_STALL_POLICY (30 s). */
  stall?: StallPolicy;
  /** Decides when cached tokens expire. Defaults to the system clock. */
  clock?: RegistryClock;
  logger?: Logger;
}

/** Challenges answered per request: one to learn the scheme, one more when a cached token was refused. */
const MAX_CHALLENGES = 2;

export class RegistrySession {
  readonly authenticator: Authenticator;
  private readonly addressPolicy: RegistryAddressPolicy;

  constructor(private readonly options: RegistrySessionOptions) {
    this.addressPolicy = options.addressPolicy ?? new RegistryAddressPolicy();
    this.authenticator = new Authenticator({ credentials: options.credentials, transport: options.transport, addressPolicy: this.addressPolicy, clock: options.clock, logger: options.logger });
  }

  get transport(): HttpTransport {
    return this.options.transport;
  }

  get stall(): StallPolicy {
    return this.options.stall ?? DEFAULT_STALL_POLICY;
  }

  /** "http://127.0.0.1:5000" or "https://registry-1.docker.io". */
  baseUrl(ref: Reference): URL {
    const scheme = usesPlainHttp(ref.registry, this.options.insecureRegistries ?? []) ? 'http' : 'https';
    return new URL(`${scheme}://${ref.host}`);
  }

  /** The URL of `path` below the repository, e.g. "blobs/sha256:...". */
  urlFor(ref: Reference, path: string): URL {
    return new URL(`/v2/${ref.repository}/${path}`, this.baseUrl(ref));
  }

  /** "manifest ai/x:latest on registry 127.0.0.1:5000"-style phrase for messages. */
  static describe(ref: Reference, what: string): string {
    return `${what} on registry ${ref.registry} (repository ${ref.repository})`;
  }

  request(request: RegistryRequest): Promise<FollowedResponse> {
    const transport = this.options.transport;
    return this.exchange(request, (o) => transport.sendFollowingRedirects(o), async (o) => ({ response: await transport.send(o), url: o.url }));
  }

  /** A blob GET: as request(), but the body is read with the lean reader (see lean-get.ts). */
  requestBlobBody(request: RegistryRequest): Promise<FollowedResponse<BodyResponse>> {
    const transport = this.options.transport;
    return this.exchange(request, (o) => transport.sendLeanFollowingRedirects(o), async (o) => ({ response: await transport.sendLean(o), url: o.url }));
  }

  private async exchange<R extends BodyResponse>(
    request: RegistryRequest,
    follow: (options: RedirectOptions) => Promise<FollowedResponse<R>>,
    once: (options: RedirectOptions) => Promise<FollowedResponse<R>>,
  ): Promise<FollowedResponse<R>> {
    const { ref, signal } = request;
    const base = this.baseUrl(ref);
    const target: AuthTarget = { registry: ref.registry, url: base, repository: ref.repository, actions: request.actions, bearerToken: request.auth?.bearerToken };
    const url = request.url ?? this.urlFor(ref, request.path ?? '');
    const registryOrigin = base.origin;
    const where = `registry ${ref.registry} (repository ${ref.repository})`;
    try {
      // Redirects (a blob's CDN) and upload Locations are the registry's choice of URL.
      const redirectGuard = await this.addressPolicy.guardFor(ref.registry, base.hostname, 'redirect to');
      const guard = url.origin === registryOrigin ? undefined : await this.addressPolicy.guardFor(ref.registry, base.hostname, 'upload location');
      let authorization = await this.authenticator.authorizationFor(target, signal);
      for (let challenge = 0; ; challenge++) {
        const headers: OutgoingHttpHeaders = { 'user-agent': USER_AGENT, ...request.headers };
        // Credentials go to the registry only, never to a foreign upload Location.
        if (authorization !== undefined && url.origin === registryOrigin) headers.authorization = authorization;
        const body = request.body?.();
        const options = { method: request.method, url, headers, body, signal, guard, redirectGuard };
        const result = (request.followRedirects ?? body === undefined) ? await follow(options) : await once(options);
        if (result.response.statusCode !== 401 || challenge >= MAX_CHALLENGES || result.url.origin !== registryOrigin) return result;
        result.response.resume();
        authorization = await this.authenticator.answerChallenge(target, result.response.headers['www-authenticate'], authorization, signal);
      }
    } catch (err) {
      throw networkError(err, where, signal);
    }
  }
}
