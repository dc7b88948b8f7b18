import { parseTarget, type FleetTarget } from './fleet-document.js';

/**
 * Fleet topics (docs/fleet.md, docs/mqtt.md). Documents are published retained, so a box that was away
 * gets the latest one when it connects; results and states are per box, retained too.
 */
export interface FleetTopics {
  /** `<base>/fleet/<group>/config`: a document for every box in the group. */
  group(group: string): string;
  /** `<base>/fleet/site/<site>/config`: a document for every box of a site. */
  site(site: string): string;
  /** `<base>/<site>/<device>/config/set`: a document for one box. */
  device(site: string, device: string): string;
  /** `<base>/<site>/<device>/config/result`: the outcome of the latest document. */
  result(site: string, device: string): string;
  /** `<base>/<site>/<device>/config/state`: running revision and group membership. */
  state(site: string, device: string): string;
  /** `<base>/<site>/<device>/config/shadow`: shadow trial agreement report. */
  shadow(site: string, device: string): string;
  /** Where a document for this target is published. */
  forTarget(target: FleetTarget): string;
}

export function fleetTopics(base: string): FleetTopics {
  const t: FleetTopics = {
    group: (group) => `${base}/fleet/${group}/config`,
    site: (site) => `${base}/fleet/site/${site}/config`,
    device: (site, device) => `${base}/${site}/${device}/config/set`,
    result: (site, device) => `${base}/${site}/${device}/config/result`,
    state: (site, device) => `${base}/${site}/${device}/config/state`,
    shadow: (site, device) => `${base}/${site}/${device}/config/shadow`,
    forTarget: (target) => {
      const p = parseTarget(target);
      if (p.kind === 'group') return t.group(p.group);
      if (p.kind === 'site') return t.site(p.site);
      return t.device(p.site, p.device);
    },
  };
  return t;
}
