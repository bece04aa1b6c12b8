/**
 * A numerical failure during a run (non-finite weights, a diverging energy): the message says what
 * diverged and, where one exists, which option or parameter to change. The CLI prints it as one line and
 * exits with code 3.
 */
export class NumericalError extends Error {
  override name = "NumericalError";
}
