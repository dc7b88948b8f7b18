import { describe, expect, it } from 'vitest';
import type { CameraConfig, VigilConfig } from '../../../config/schema.js';
import { topics } from '../../../agent/mqtt/topics.js';
import { discoveryMessages } from '../../../agent/services/ha-discovery.js';

const camera = (id: string, extra: Partial<CameraConfig> = {}) =>
  ({ id, source: `${id}.mp4`, model: 'm', enabled: true, ...extra }) as CameraConfig;
// Only the fields discovery reads; of a PM2.5 section, only whether it is enabled matters to it.
const cfg: Pick<VigilConfig, 'site' | 'device' | 'cameras'> = {
  site: 's',
  device: 'd',
  cameras: [
    camera('dock-1', { name: 'Dock', pm25: { enabled: true } as CameraConfig['pm25'] }),
    // `pm25.enabled: false` once still announced a PM2.5 sensor that would never get a value.
    camera('gate', { pm25: { enabled: false } as CameraConfig['pm25'] }),
    camera('off', { enabled: false }),
  ],
};

describe('Home Assistant discovery', () => {
  const msgs = discoveryMessages(cfg, topics('vigil', 's', 'd'), 'homeassistant', '1.0.0');
  const byTopic = new Map(msgs.map((m) => [m.topic, m.payload]));

  it('announces availability, person and forklift counts per enabled camera and PM2.5 where enabled', () => {
    expect([...byTopic.keys()].sort()).toEqual([
      'homeassistant/binary_sensor/vigil_s_d/online/config',
      'homeassistant/sensor/vigil_s_d/dock-1_forklift/config',
      'homeassistant/sensor/vigil_s_d/dock-1_person/config',
      'homeassistant/sensor/vigil_s_d/dock-1_pm25/config',
      'homeassistant/sensor/vigil_s_d/gate_forklift/config',
      'homeassistant/sensor/vigil_s_d/gate_person/config',
    ]);
  });

  it('reads the topics Vigil already publishes, with unique ids and status as availability', () => {
    const person = byTopic.get('homeassistant/sensor/vigil_s_d/dock-1_person/config')!;
    expect(person).toMatchObject({
      name: 'Dock person count',
      state_topic: 'vigil/s/d/cameras/dock-1/detections',
      availability: [{ topic: 'vigil/s/d/status', value_template: '{{ value_json.state }}' }],
      payload_available: 'online',
    });
    expect(person.value_template).toContain("'equalto', 'person'");
    const pm = byTopic.get('homeassistant/sensor/vigil_s_d/dock-1_pm25/config')!;
    expect(pm).toMatchObject({ state_topic: 'vigil/s/d/cameras/dock-1/pm25', device_class: 'pm25' });
    const ids = msgs.map((m) => m.payload.unique_id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
