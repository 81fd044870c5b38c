import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { ALARM_PRIORITY } from '../stream/contracts/alarms.js';
import type { Role } from '../stream/contracts/display.js';
import { ROLES, type User, type UserDirectory } from './users.js';

/** Largest request body read, bytes: nothing the API takes is bigger. */
export const MAX_BODY_BYTES = 16 * 1024;

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The bearer token of a request's Authorization header. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  const match = header === undefined ? null : /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1];
}

/** The token a WebSocket upgrade offers as a subprotocol (`bearer.<token>`: browsers cannot set headers), or its header. */
export function upgradeToken(req: IncomingMessage): string | undefined {
  const protocols = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
  return protocols.find((p) => p.startsWith('bearer.'))?.slice('bearer.'.length) ?? bearerToken(req);
}

/**
 * Whether a browser request's Origin may use this gateway: its own origin, or one of `allowed`.
 * A request without Origin is no browser's cross-site request (the token still decides).
 */
export function originAllowed(req: IncomingMessage, allowed: readonly string[], tls: boolean): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  const own = `${tls ? 'https' : 'http'}://${req.headers.host ?? ''}`;
  return origin === own || allowed.includes(origin);
}

/** The user of a request, or a 401 (no token, or a wrong one: nothing else is said). */
export function authenticate(users: UserDirectory, token: string | undefined): User {
  const user = users.authenticate(token);
  if (user === undefined) throw new HttpError(401, 'a valid token is required');
  return user;
}

export function requireRole(user: User, can: keyof (typeof ROLES)[Role], what: string): void {
  if (!ROLES[user.role][can]) throw new HttpError(403, `${user.name} (${user.role}) may not ${what}`);
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}

/** Reads a request's body, refusing (413) one over MAX_BODY_BYTES. */
export async function readBody(req: IncomingMessage): Promise<string> {
  let size = 0;
  const parts: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `request body over ${MAX_BODY_BYTES} bytes`);
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts).toString('utf8');
}

/** A query parameter that must be one of `values` (400 otherwise), or undefined. */
export function oneOf(params: URLSearchParams, name: string, values: readonly string[]): string | undefined {
  const value = params.get(name);
  if (value === null || value === '') return undefined;
  if (!values.includes(value)) throw new HttpError(400, `${name} must be one of ${values.join(', ')}, got "${value}"`);
  return value;
}

/** A query parameter as a whole number in [min, max] (400 otherwise), or `fallback`. */
export function wholeNumber(
  params: URLSearchParams,
  name: string,
  fallback: number | undefined,
  min: number,
  max: number,
): number | undefined {
  const value = params.get(name);
  if (value === null || value === '') return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new HttpError(400, `${name} must be a whole number from ${min} to ${max}, got "${value}"`);
  return n;
}

export const ALARM_TYPES = Object.keys(ALARM_PRIORITY);
export const PRIORITIES = ['high', 'medium', 'low', 'technical'];

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
};

/**
 * The dashboard's static files (the built bundle): no patient data, so no token; everything under
 * /api and the socket needs one. Paths cannot leave the folder.
 */
export async function serveStatic(res: ServerResponse, root: string, pathname: string): Promise<void> {
  const relative = normalize(pathname === '/' ? '/index.html' : pathname).replace(/^([/\\])+/, '');
  const path = join(root, relative);
  if (!path.startsWith(root + sep)) throw new HttpError(404, `no file ${pathname}`);
  let body: Buffer;
  try {
    body = await readFile(path);
  } catch {
    throw new HttpError(404, `no file ${pathname}`);
  }
  res.writeHead(200, {
    'content-type': CONTENT_TYPES[extname(path)] ?? 'application/octet-stream',
    'cache-control': 'no-cache',
    'content-security-policy':
      "default-src 'self'; connect-src 'self' ws: wss:; style-src 'self' 'unsafe-inline'; img-src 'self' data:",
    'x-content-type-options': 'nosniff',
  });
  res.end(body);
}

/**
 * Acknowledgements a user may ask for in a window: a stuck key or a script must not flood
 * `ecg.acks` (a nurse acknowledges a few alarms a minute at most).
 */
export class RateLimit {
  private readonly recent = new Map<string, number[]>();

  constructor(
    private readonly count: number,
    private readonly windowMs: number,
  ) {}

  /** Whether `key` may act now (and counts it if so). */
  allow(key: string, now = Date.now()): boolean {
    const times = (this.recent.get(key) ?? []).filter((t) => now - t < this.windowMs);
    if (times.length >= this.count) {
      this.recent.set(key, times);
      return false;
    }
    times.push(now);
    this.recent.set(key, times);
    return true;
  }
}
