import type { OutboxStatements } from './outbox-sql.js';
import type { OutboxNote } from './outbox-types.js';

// Notes live in the meta table, under their own prefix so they never meet the outbox's own keys.
const notePrefix = 'note:';

/** Sets or (value null) deletes a note; called inside a message's commit transaction. */
export function writeNote(sql: OutboxStatements, note: OutboxNote): void {
  const key = notePrefix + note.key;
  if (note.value === null) sql.deleteMeta.run(key);
  else sql.setMeta.run(key, JSON.stringify(note.value));
}

/** Every note whose key starts with `prefix`, in key order. */
export function readNotes(sql: OutboxStatements, prefix: string): OutboxNote[] {
  const from = notePrefix + prefix;
  // The first string after every key that starts with `from`.
  const to = from + '\uffff';
  return (sql.metaRange.all(from, to) as { key: string; value: string }[]).map((r) => ({
    key: r.key.slice(notePrefix.length),
    value: JSON.parse(r.value) as unknown,
  }));
}
