/**
 * The fields of one CSV line (RFC 4180): a field in double quotes may hold commas, and `""` inside it is one
 * quote. Spreadsheets quote fields on export ("2025-02-10 10:00","32"), which a plain split on commas read
 * as text: every row left out, or the file refused for its first time.
 */
export function csvFields(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c !== '"') field += c;
      else if (line[i + 1] === '"') field += line[++i];
      else quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else field += c;
  }
  fields.push(field);
  return fields;
}
