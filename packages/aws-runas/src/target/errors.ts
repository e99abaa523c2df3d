/** Errors of target resolution (see cli-reference.md §3). */
import { RunasError } from "@aws-runas/wire/errors.js";

/** No method found a running instance; the message says what each one tried. */
export class TargetNotFoundError extends RunasError {
  readonly target: string;
  /** One note per method that applied, in chain order: `tag web=prod: 0 running`. */
  readonly notes: readonly string[];

  constructor(target: string, notes: readonly string[]) {
    const tried = notes.length > 0 ? ` (${notes.join("; ")})` : "";
    super("TARGET_NOT_FOUND", `no instance matches ${JSON.stringify(target)}${tried}`, {
      hint: "check the target, the region (AWS_REGION or region in the profile) and that the instance is running",
    });
    this.target = target;
    this.notes = notes;
  }
}
