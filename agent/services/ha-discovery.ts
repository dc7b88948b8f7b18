import type { VigilConfig } from '../../config/schema.js';
import { activePm25 } from '../../config/pm25-schema.js';
import type { Topics } from '../mqtt/topics.js';

/** Labels with a count sensor per camera (the issue's "person/forklift counts"). */
export const countedLabels = ['person', 'forklift'] as const;

export interface DiscoveryMessage {
  /** `<prefix>/<component>/<node>/<object>/config` */
  topic: string;
  payload: Record<string, unknown>;
}

const objectId = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, '_');

/** The node id of one box's discovery topics (`<prefix>/<component>/<node>/<object>/config`). */
export const discoveryNode = (cfg: Pick<VigilConfig, 'site' | 'device'>) =>
  objectId(`vigil_${cfg.site}_${cfg.device}`);

/**
 * Home Assistant MQTT discovery configs for one box: its availability, per camera the number of each
 * counted label in the latest processed frame, and PM2.5 for cameras that estimate it. Every entity reads
 * the topics Vigil publishes anyway (docs/mqtt.md); availability follows the retained `status`.
 */
export function discoveryMessages(
  cfg: Pick<VigilConfig, 'site' | 'device' | 'cameras'>,
  t: Topics,
  prefix: string,
  version: string,
): DiscoveryMessage[] {
  const node = discoveryNode(cfg);
  const device = {
    identifiers: [node],
    name: `Vigil ${cfg.site}/${cfg.device}`,
    manufacturer: 'Vigil',
    model: 'edge detection agent',
    sw_version: version,
  };
  const availability = {
    availability: [{ topic: t.status, value_template: '{{ value_json.state }}' }],
    payload_available: 'online',
    payload_not_available: 'offline',
  };
  const out: DiscoveryMessage[] = [
    {
      topic: `${prefix}/binary_sensor/${node}/online/config`,
      payload: {
        name: 'Online',
        unique_id: `${node}_online`,
        state_topic: t.status,
        value_template: '{{ value_json.state }}',
        payload_on: 'online',
        payload_off: 'offline',
        device_class: 'connectivity',
        device,
      },
    },
  ];
  for (const cam of cfg.cameras.filter((c) => c.enabled)) {
    const ct = t.camera(cam.id);
    const name = cam.name ?? cam.id;
    for (const label of countedLabels) {
      out.push({
        topic: `${prefix}/sensor/${node}/${objectId(`${cam.id}_${label}`)}/config`,
        payload: {
          name: `${name} ${label} count`,
          unique_id: `${node}_${objectId(cam.id)}_${label}`,
          state_topic: ct.detections,
          value_template: `{{ value_json.detections | selectattr('label', 'equalto', '${label}') | list | count }}`,
          state_class: 'measurement',
          icon: label === 'person' ? 'mdi:account-group' : 'mdi:forklift',
          ...availability,
          device,
        },
      });
    }
    if (activePm25(cam)) {
      out.push({
        topic: `${prefix}/sensor/${node}/${objectId(`${cam.id}_pm25`)}/config`,
        payload: {
          name: `${name} PM2.5`,
          unique_id: `${node}_${objectId(cam.id)}_pm25`,
          state_topic: ct.state.replace(/\/state$/, '/pm25'),
          // Null when the window was not estimable: HA shows "unknown".
          value_template: '{{ value_json.pm25 if value_json.pm25 is not none else None }}',
          device_class: 'pm25',
          unit_of_measurement: 'µg/m³',
          state_class: 'measurement',
          ...availability,
          device,
        },
      });
    }
  }
  return out;
}
