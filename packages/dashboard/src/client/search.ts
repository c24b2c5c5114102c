/**
 * The search box's rule, checked in the browser before a request is made (the server checks
 * it again): a non-empty JSON object, matched by containment (jsonb `@>`) against each job's
 * payload and metadata. Returns the problem in words, or null when the text is fine.
 */
export function searchProblem(text: string): string | null {
  if (text.trim() === '') return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return `Search must be JSON, such as {"userId": 42}: ${(e as Error).message}`;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return `Search must be a JSON object, such as {"userId": 42}, not ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}`;
  }
  if (Object.keys(value).length === 0) return 'Search must name at least one field, such as {"userId": 42}';
  return null;
}
