/** The topic tree of one device: `<base>/<site>/<device>/…`. */
export interface Topics {
  root: string;
  /** Retained `online`/`offline` (also the last will). */
  status: string;
  health: string;
  /** Notices such as a corrupt outbox moved aside. */
  events: string;
  /** Drop counts, reported when the link is back. */
  drops: string;
  /** `…/request/<op>` (in) and `…/response/<op>` (out); `request('+')` is the filter for every op. */
  request(op: string): string;
  response(op: string): string;
  camera(id: string): CameraTopics;
}

export interface CameraTopics {
  detections: string;
  /** Retained latest state. */
  state: string;
  /** Safety events (zones, proximity), priority 2 (docs/safety.md). */
  events: string;
}

/** A topic level must not be empty or hold a separator or wildcard, or the tree would be ambiguous. */
function level(value: string, what: string): string {
  if (!value || /[/+#]/.test(value) || value.includes('\0'))
    throw new Error(`invalid ${what} for an MQTT topic: "${value}"`);
  return value;
}

export function topics(base: string, site: string, device: string): Topics {
  // The base may span levels (`acme/vigil`), but none of them may be empty or a wildcard.
  base.split('/').forEach((part) => level(part, 'base topic level'));
  const root = `${base}/${level(site, 'site')}/${level(device, 'device')}`;
  return {
    root,
    status: `${root}/status`,
    health: `${root}/health`,
    events: `${root}/events`,
    drops: `${root}/drops`,
    request: (op) => `${root}/request/${op === '+' ? op : level(op, 'op')}`,
    response: (op) => `${root}/response/${level(op, 'op')}`,
    camera: (id) => {
      const cam = `${root}/cameras/${level(id, 'camera id')}`;
      return { detections: `${cam}/detections`, state: `${cam}/state`, events: `${cam}/events` };
    },
  };
}
