/** Characters of a payload a list shows: a page of 50 jobs with 1 MiB payloads must not be 50 MiB. */
export const PAYLOAD_PREVIEW = 200;
/** Characters of the last error message a list shows. */
export const ERROR_PREVIEW = 300;

/** The start of a string, never ending in half a surrogate pair. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  const last = cut.charCodeAt(cut.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}

/** A payload as the start of its JSON text, for lists. */
export function preview(payload: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(payload) ?? 'null';
  } catch {
    text = String(payload);
  }
  return clip(text, PAYLOAD_PREVIEW);
}
