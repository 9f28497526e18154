/**
 * A syntax error in OData text, with the 0-based position where it was found.
 * Callers show `message`, which always names the position and echoes the input the way
 * Dataverse does ("... at position 21 in '...'"), so a model can see exactly what to fix.
 */
export class ODataSyntaxError extends Error {
  override readonly name = 'ODataSyntaxError';
  constructor(
    readonly reason: string,
    readonly position: number,
    readonly input: string,
  ) {
    // Two documented/observed wordings: "There is an unterminated literal at position 21 in '…'." (FILTER)
    // and "Syntax error: character '&' is not valid at position 70 in '…'" (observed). Reasons written as a
    // sentence (capitalised) stand alone; the rest get the "Syntax error:" prefix.
    const shown = input.length > 200 ? `${input.slice(0, 200)}…` : input;
    const prefix = /^[A-Z]/.test(reason) ? '' : 'Syntax error: ';
    super(`${prefix}${reason} at position ${position} in '${shown}'.`);
  }
}
