// Who may talk to the dashboard: requests addressed to it by one of its own names (Host), and
// writes only from its own page or from non-browser clients, as JSON.
//
// - Host: a page on attacker.example whose DNS name is re-pointed at 127.0.0.1 (DNS rebinding)
//   is same-origin with the dashboard in the browser's eyes, and could read /events and POST
//   /publish. Its requests still say `Host: attacker.example`, so any name the dashboard does not
//   know is refused, on every route.
// - Origin: browsers send it on every POST. A cross-site form or fetch (`text/plain`, no
//   preflight) names its own site there; only the dashboard's own origins may write.
// - Content-Type: only `application/json`, which a cross-site page cannot send without a CORS
//   preflight, and the server never answers preflights.
import type { IncomingMessage } from 'node:http';

export interface Refusal {
  status: 403 | 415;
  reason: string;
}

/** `name:port` for the loopback names, the bind address and `extra` names (ALLOWED_HOSTS, e.g. `dash.internal:8080`). */
export function allowedHosts(port: number, bindHost: string, extra: readonly string[] = []): Set<string> {
  const names = ['localhost', '127.0.0.1', '[::1]', bindHost.includes(':') ? `[${bindHost}]` : bindHost];
  const hosts = names.flatMap((name) => (port === 80 ? [name, `${name}:80`] : [`${name}:${port}`]));
  return new Set([...hosts, ...extra].map((host) => host.toLowerCase()));
}

/** Every request: the Host must be one of the dashboard's names. */
export function checkHost(req: IncomingMessage, hosts: ReadonlySet<string>): Refusal | undefined {
  const host = req.headers.host?.toLowerCase();
  if (host === undefined || !hosts.has(host)) return { status: 403, reason: `foreign Host ${host}` };
  return undefined;
}

/** Writes: same origin (or no Origin: curl, scripts) and a JSON body. */
export function checkWrite(req: IncomingMessage, hosts: ReadonlySet<string>): Refusal | undefined {
  const origin = req.headers.origin;
  if (req.headers['sec-fetch-site'] === 'cross-site') return { status: 403, reason: 'cross-site request' };
  if (origin !== undefined && !hosts.has(originHost(origin)))
    return { status: 403, reason: `cross-site Origin ${origin}` };
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json')
    return { status: 415, reason: `content-type ${type || '(none)'}, expected application/json` };
  return undefined;
}

/** `http://127.0.0.1:8080` → `127.0.0.1:8080`; `null` (sandboxed frames, file://) or anything else → ''. */
function originHost(origin: string): string {
  try {
    const url = new URL(origin);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.host.toLowerCase() : '';
  } catch {
    return '';
  }
}
