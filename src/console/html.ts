/**
 * HTML built from template literals: every value is escaped unless it is already HTML, so a job
 * name, a log line or a FailureReason (all of them the user's, or a container's) can never become
 * markup on the console's pages.
 */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

function render(value: unknown): string {
  if (value === undefined || value === null || value === false) return '';
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(value);
}

/** `html\`<td>${name}</td>\``: values escaped, Html and arrays of it inserted as they are; nothing for undefined, null and false. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0]!;
  values.forEach((v, i) => (out += render(v) + strings[i + 1]!));
  return new Html(out);
}

/** Text already known to be safe markup (the console's own CSS and script). */
export function trusted(text: string): Html {
  return new Html(text);
}
