/** The topic tree of one device: `<base>/<site>/<device>/…`. */
export interface Topics {
  root: string;
  /** Retained `online`/`offline` (also the last will). */
  status: string;
  health: string;
  /** Notices such as a corrupt outbox moved aside. */
  events: string;
  camera(id: string): CameraTopics;
}

export interface CameraTopics {
  detections: string;
  /** Retained latest state. */
  state: string;
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
    camera: (id) => {
      const cam = `${root}/cameras/${level(id, 'camera id')}`;
      return { detections: `${cam}/detections`, state: `${cam}/state` };
    },
  };
}
