import { BlockList, isIPv6 } from 'node:net';
import { isSecretParam } from './redact-url.js';
import type { VigilConfig } from './schema.js';

/** A setting that sends a secret in clear or turns a security check off: allowed, but said aloud. */
export interface InsecureSetting {
  /** The config field to look at (`mqtt.password`, `cameras[0].source`). */
  field: string;
  /** What goes wrong and what to do instead; never the secret itself. */
  why: string;
}

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/** `localhost`, 127.0.0.0/8 or ::1 (IPv4-mapped too): traffic that never leaves this machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h === 'localhost.') return true;
  try {
    return loopback.check(h, isIPv6(h) ? 'ipv6' : 'ipv4');
  } catch {
    return false; // a host name
  }
}

function parse(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}

/** The secret query parameters of a URL, by name (`password`, `token`…). */
const secretParams = (u: URL) => [...new Set([...u.searchParams.keys()].filter(isSecretParam))];

/** A broker connection's settings (`mqtt`, or `vigil fleet push`'s flags) that expose its password or trust. */
export function insecureMqttSettings(
  mq: Pick<NonNullable<VigilConfig['mqtt']>, 'url' | 'password' | 'tls'>,
): InsecureSetting[] {
  const u = parse(mq.url);
  if (!u || isLoopbackHost(u.hostname)) return [];
  const host = u.hostname;
  const scheme = u.protocol.slice(0, -1);
  const out: InsecureSetting[] = [];
  // mqtt.js sends the CONNECT, password included, as it is: only TLS hides it.
  if (!/^(mqtts|wss|ssl)$/.test(scheme) && (mq.password || u.password))
    out.push({
      field: mq.password ? 'mqtt.password' : 'mqtt.url',
      why:
        `the broker password goes to ${host} in clear (${scheme}:// has no TLS): anyone on the network ` +
        'between can read it; use mqtts:// (mqtt.tls), or a broker on this box',
    });
  if (mq.tls && mq.tls.rejectUnauthorized === false)
    out.push({
      field: 'mqtt.tls.rejectUnauthorized',
      why:
        `false: any certificate is taken as ${host}'s, so a machine in between can pose as the broker and ` +
        `read what this box sends${mq.password || u.password ? ', its password included' : ''}; ` +
        "set mqtt.tls.ca to the CA that signed the broker's certificate instead",
    });
  return out;
}

function httpSettings(http: VigilConfig['http']): InsecureSetting[] {
  if (!http.enabled || !http.auth || isLoopbackHost(http.host)) return [];
  const what = [http.auth.token && 'token', http.auth.user && 'password'].filter(Boolean).join(' and ');
  return [
    {
      field: 'http.auth',
      why:
        `the login (${what}) crosses the network in clear: the status page is plain HTTP on ${http.host}:${http.port}; ` +
        'put a TLS reverse proxy in front (with http.host: 127.0.0.1), or keep the page on a closed LAN',
    },
  ];
}

function cameraSettings(cameras: VigilConfig['cameras']): InsecureSetting[] {
  const out: InsecureSetting[] = [];
  cameras.forEach((c, i) => {
    if (!c.enabled) return;
    const u = parse(c.source);
    if (!u || !['http:', 'rtsp:'].includes(u.protocol) || isLoopbackHost(u.hostname)) return;
    const params = secretParams(u);
    // rtsp:// user and password: cameras ask for Digest, which does not send the password; HTTP cameras
    // often ask for Basic, which does. A query parameter travels as written on both.
    const userinfo = u.protocol === 'http:' && Boolean(u.password);
    if (!userinfo && !params.length) return;
    const what = [userinfo && 'user and password', ...params.map((p) => `${p} parameter`)].filter(Boolean);
    out.push({
      field: `cameras[${i}].source`,
      why:
        `camera ${c.id}: the credentials in its source (${what.join(', ')}) go to ${u.hostname} in clear ` +
        `(${u.protocol}// has no TLS); use ${u.protocol === 'http:' ? 'https' : 'rtsps'}:// if the camera ` +
        'offers it, or keep it on a closed LAN',
    });
  });
  return out;
}

/**
 * The settings of a valid config that send a secret over the network in clear or accept any broker
 * certificate. Not errors: on a closed LAN they are legitimate, and a host on this machine (loopback)
 * never counts. `vigil check-config`, `vigil doctor` and the agent's start say each one (docs/config.md).
 */
export function insecureSettings(cfg: VigilConfig): InsecureSetting[] {
  return [
    ...(cfg.mqtt ? insecureMqttSettings(cfg.mqtt) : []),
    ...httpSettings(cfg.http),
    ...cameraSettings(cfg.cameras),
  ];
}
