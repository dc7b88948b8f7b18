import { z } from 'zod';
import { Pm25Payload, Pm25ReferenceReading } from '../../models/pm25/payloads.js';
import { DriftPayload, DriftSummaryPayload } from '../../pipeline/drift/payloads.js';
import { SafetyEventPayload } from '../../pipeline/safety/payloads.js';
import { CameraStatePayload, DetectionsPayload, StatusPayload } from './payloads.js';
import { AgentEventPayload, DropsPayload, HealthPayload } from './report-payloads.js';
import { RequestEnvelope, ResponsePayload } from './request-payloads.js';
import { FleetDocument } from '../fleet/fleet-document.js';
import { ConfigResultPayload, FleetStatePayload, ShadowReportPayload } from '../fleet/fleet-payloads.js';
import { DoctorProbePayload } from '../doctor/broker-check.js';
import { allowEnvRefs } from '../../config/config-json-schema.js';

/**
 * Every MQTT payload with a documented topic (docs/mqtt.md), by the name of its generated JSON Schema:
 * `docs/schemas/<name>.json` (`npm run gen:schemas`). An explicit map: a payload added to the contract is
 * added here, and test/agent/mqtt/schema-registry.test.ts fails until docs/schemas is regenerated.
 * The one payload that is no JSON has no schema: an empty retained message, which deletes a retained topic
 * (a removed camera's; agent/outbox/empty-payload.ts, docs/mqtt.md "Retained topics follow the config").
 */
export const payloadSchemas: Record<string, z.ZodType> = {
  status: StatusPayload,
  'camera-state': CameraStatePayload,
  detections: DetectionsPayload,
  pm25: Pm25Payload,
  'pm25-reference': Pm25ReferenceReading,
  health: HealthPayload,
  drops: DropsPayload,
  events: AgentEventPayload,
  request: RequestEnvelope,
  response: ResponsePayload,
  'safety-event': SafetyEventPayload,
  drift: DriftPayload,
  'drift-summary': DriftSummaryPayload,
  'fleet-document': FleetDocument,
  'config-result': ConfigResultPayload,
  'config-state': FleetStatePayload,
  'shadow-report': ShadowReportPayload,
  doctor: DoctorProbePayload,
  // Drift, safety events and fleet config add their payloads here (docs/mqtt.md, their sections).
};

/**
 * The payloads the agent receives rather than sends. Their JSON Schema describes what a sender may write
 * (fields with defaults optional); the others describe what the agent publishes (every default filled in).
 */
export const inboundPayloads: ReadonlySet<string> = new Set(['pm25-reference', 'request', 'fleet-document']);

/** The JSON Schema document of one payload, as written to docs/schemas (stable key order, trailing newline). */
export function jsonSchemaText(name: string, schema: z.ZodType): string {
  const io = inboundPayloads.has(name) ? 'input' : 'output';
  const doc = {
    $id: `https://vigil.invalid/schemas/${name}.json`,
    title: name,
    ...z.toJSONSchema(schema, { target: 'draft-2020-12', unrepresentable: 'any', io }),
  };
  // A fleet document's body keeps its `${VAR}` references; each box expands them before it checks the body
  // (docs/fleet.md#credentials), so a reference stands where any string of the body may.
  if (name === 'fleet-document') {
    const properties = doc.properties as Record<string, unknown>;
    properties.config = allowEnvRefs(properties.config);
  }
  return JSON.stringify(doc, null, 2) + '\n';
}
