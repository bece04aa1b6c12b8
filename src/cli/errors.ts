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

/**
 * An integer option ≥ min. Counts (walkers, rows, iterations, chains) size arrays, so values past 2^31 − 1
 * are refused here, naming the option, rather than failing later as an allocation error.
 */
export function parseInteger(name: string, value: string, min = 1): number {
  const v = parseNumber(name, value);
  if (!Number.isInteger(v) || v < min)
    throw new UserError(`${name} must be an integer ≥ ${min}, got '${value}'`);
  if (v > MAX_COUNT) throw new UserError(`${name} must be at most ${MAX_COUNT}, got '${value}'`);
  return v;
}

const MAX_COUNT = 2 ** 31 - 1;

/** Comma-separated list of numbers, e.g. "--modes -6,7". */
export function parseNumberList(name: string, value: string, length?: number): number[] {
  const parts = value.split(",");
  if (length !== undefined && parts.length !== length)
    throw new UserError(`${name} needs ${length} comma-separated numbers, got '${value}'`);
  return parts.map((p) => parseNumber(name, p));
}

/** Network layer widths: comma-separated integers from 1 to 4096. */
export function parseLayerWidths(name: string, value: string): number[] {
  const h = parseNumberList(name, value);
  if (!h.every((v) => Number.isInteger(v) && v >= 1 && v <= 4096))
    throw new UserError(
      `${name} must be comma-separated layer widths from 1 to 4096, got '${printable(value)}'`,
    );
  return h;
}

/** A seed: an integer of magnitude at most 2^53 (beyond that, distinct seeds would collide). */
export function parseSeed(name: string, value: string): number {
  const v = parseNumber(name, value);
  if (!Number.isSafeInteger(v))
    throw new UserError(`${name} must be an integer within ±2^53, got '${value}'`);
  return v;
}

/** An integer option within [min, max], or a UserError naming the option and the range. */
export function parseIntegerInRange(name: string, value: string, min: number, max: number): number {
  const v = parseNumber(name, value);
  if (!Number.isInteger(v) || v < min || v > max) {
    const range = max >= Number.MAX_SAFE_INTEGER ? `≥ ${min} (below 2^53)` : `from ${min} to ${max}`;
    throw new UserError(`${name} must be an integer ${range}, got '${value}'`);
  }
  return v;
}

/** A number option within (0, max], or a UserError naming the option and the range. */
export function parsePositive(name: string, value: string, max = Number.MAX_VALUE): number {
  const v = parseNumber(name, value);
  if (!(v > 0) || v > max)
    throw new UserError(
      `${name} must be positive${max < Number.MAX_VALUE ? ` and at most ${max}` : ""}, got '${value}'`,
    );
  return v;
}

/**
 * A user-supplied string made safe for a terminal line: C0 and C1 control characters (escape sequences,
 * newlines, DEL), Unicode line separators and bidirectional overrides are written as \xNN or \uNNNN, and
 * text beyond `max` characters is cut with "…".
 */
export function printable(s: string, max = 200): string {
  let out = "";
  let n = 0;
  for (const ch of s) {
    if (n++ >= max) return `${out}…`;
    const c = ch.codePointAt(0) as number;
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) out += `\\x${c.toString(16).padStart(2, "0")}`;
    else if (
      c === 0x2028 ||
      c === 0x2029 ||
      (c >= 0x202a && c <= 0x202e) ||
      (c >= 0x2066 && c <= 0x2069) ||
      c === 0x061c ||
      c === 0x200e ||
      c === 0x200f
    )
      out += `\\u${c.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return out;
}
