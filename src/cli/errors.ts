/** Errors caused by the user's input: printed as one line without a stack trace, exit code 2. */
export class UserError extends Error {
  override name = "UserError";
}

/** Parses a finite number for option `name`, or throws a UserError naming it. */
export function parseNumber(name: string, value: string): number {
  const v = value.trim() === "" ? Number.NaN : Number(value);
  if (!Number.isFinite(v)) throw new UserError(`${name} must be a number, got '${value}'`);
  return v;
}

export function parseInteger(name: string, value: string, min = 1): number {
  const v = parseNumber(name, value);
  if (!Number.isInteger(v) || v < min)
    throw new UserError(`${name} must be an integer ≥ ${min}, got '${value}'`);
  return v;
}

/** Comma-separated list of numbers, e.g. "--modes -6,7". */
export function parseNumberList(name: string, value: string, length?: number): number[] {
  const parts = value.split(",");
  if (length !== undefined && parts.length !== length)
    throw new UserError(`${name} needs ${length} comma-separated numbers, got '${value}'`);
  return parts.map((p) => parseNumber(name, p));
}

/** A seed: an integer of magnitude at most 2^53 (beyond that, distinct seeds would collide). */
export function parseSeed(name: string, value: string): number {
  const v = parseNumber(name, value);
  if (!Number.isSafeInteger(v))
    throw new UserError(`${name} must be an integer within ±2^53, got '${value}'`);
  return v;
}
