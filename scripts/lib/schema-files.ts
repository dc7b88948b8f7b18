import { configJsonSchemaText } from '../../config/config-json-schema.js';
import { jsonSchemaText, payloadSchemas } from '../../agent/mqtt/schema-registry.js';
import { statusJsonSchema } from '../../agent/web/status-schema.js';

/**
 * Every file of docs/schemas by name, with the text `npm run gen:schemas` writes there: one per MQTT payload
 * (agent/mqtt/schema-registry.ts), the HTTP `/api/status` document as `/api/status/schema.json` serves it
 * (`http-status.json`; `status.json` is the MQTT online/offline message), and the config file as written
 * (`config.json`, config/config-json-schema.ts). test/scripts/lib/schema-files.test.ts fails when one is stale.
 */
export function schemaFiles(): Map<string, string> {
  const files = new Map(
    Object.entries(payloadSchemas).map(([name, schema]) => [`${name}.json`, jsonSchemaText(name, schema)]),
  );
  const httpStatus = {
    $id: 'https://vigil.invalid/schemas/http-status.json',
    title: 'http-status',
    ...statusJsonSchema(),
  };
  files.set('http-status.json', JSON.stringify(httpStatus, null, 2) + '\n');
  files.set('config.json', configJsonSchemaText());
  return files;
}
