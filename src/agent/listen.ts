// `--listen HOST:PORT`: where the metrics and health endpoints are served. Loopback by default:
// exposing them on the node's network is a choice the operator makes (a DaemonSet scraped by
// Prometheus), never one k3sguard makes for them.
import { isIP } from 'node:net';
import { InputError } from '../model/errors.ts';

export const DEFAULT_LISTEN = '127.0.0.1:9464';

export interface ListenAddress {
  /** An IP address or a host name; IPv6 without brackets. */
  readonly host: string;
  /** 0 lets the system choose (tests). */
  readonly port: number;
}

/** `127.0.0.1:9464`, `[::1]:9464`, `0.0.0.0:9464`, `localhost:9464`. */
export function parseListen(listen: string): ListenAddress {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(listen);
  const port = Number(m?.[3]);
  const host = m?.[1] ?? m?.[2];
  if (!m || host === undefined || port > 65535 || (m[1] !== undefined && isIP(m[1]) !== 6)) {
    throw new InputError(
      'USAGE',
      undefined,
      `--listen ${JSON.stringify(listen)}: expected HOST:PORT, e.g. ${DEFAULT_LISTEN} or [::1]:9464`,
    );
  }
  return { host, port };
}

/** `host:port`, with brackets around an IPv6 address. */
export function formatListen(address: ListenAddress): string {
  return isIP(address.host) === 6 ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}
