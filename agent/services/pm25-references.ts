import type { Logger } from '../../config/logger.js';
import type { CameraConfig } from '../../config/schema.js';
import type { Pm25Estimator } from '../../models/pm25/estimator.js';
import { pairMemoryMs } from '../../models/pm25/pairing.js';
import type { Agent } from '../runtime/agent.js';
import { parseReferenceReading, refuseReading, takeReading } from './pm25-reference.js';
import { Pm25ReferenceTally } from './pm25-reference-tally.js';
import { ReferenceCsvFollower } from './reference-csv-follower.js';

/**
 * The camera's reference readings, from its topic on the broker and from its `referenceCsv`: each offered
 * to the estimator, logged and counted. Returns what stops them; nothing without either (no reading can
 * arrive, and the page says so).
 */
export function followReferences(
  agent: Agent,
  camera: CameraConfig,
  estimator: Pm25Estimator,
  topic: string,
  log: Logger,
): (() => void) | undefined {
  const cfg = camera.pm25!;
  const link = agent.link;
  const csv = cfg.referenceCsv ?? null;
  if (!link && !csv) return void agent.pm25References.delete(camera.id);
  const tally = referenceTally(agent, camera.id, link ? topic : null, csv);
  const sink = { estimator, tally, log, pairWithinMinutes: cfg.calibration.pairWithinMinutes };
  const off = link?.subscribe(topic, (payload) => {
    const receivedAt = Date.now();
    const parsed = parseReferenceReading(payload);
    if (parsed.ok) takeReading(sink, parsed.reading, 'mqtt', receivedAt);
    else refuseReading(sink, parsed.reason, 'mqtt');
  });
  const follower = csv
    ? new ReferenceCsvFollower(
        csv,
        cfg.timezone,
        (l) => {
          if ('refused' in l) return refuseReading(sink, l.refused, 'csv');
          const { ts, pm25, humidity } = l.row;
          takeReading(
            sink,
            { ts: ts.toISOString(), pm25, ...(humidity === undefined ? {} : { humidity }) },
            'csv',
          );
        },
        {
          backlogSince: Date.now() - pairMemoryMs,
          onProblem: (problem) => {
            tally.csvProblem = problem ?? null;
            if (problem) log.warn('PM2.5 reference CSV not readable', { problem });
            else log.info('following the PM2.5 reference CSV', { file: csv });
          },
          onBacklog: (n) =>
            log.info('PM2.5 reference CSV: older rows passed over', {
              rows: n,
              reason: `older than the ${pairMemoryMs / 3_600_000} h of frames kept, so they could pair with none`,
            }),
        },
      )
    : undefined;
  follower?.start();
  return () => {
    off?.();
    follower?.stop();
  };
}

/** The camera's tally; a new one when its sources changed (a push that renamed the site, moved the CSV). */
function referenceTally(
  agent: Agent,
  id: string,
  topic: string | null,
  csv: string | null,
): Pm25ReferenceTally {
  const kept = agent.pm25References.get(id);
  if (kept?.topic === topic && kept.csv === csv) return kept;
  const tally = new Pm25ReferenceTally(topic, csv);
  agent.pm25References.set(id, tally);
  return tally;
}
