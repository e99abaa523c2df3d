/** `i-...` / `mi-...` ids are used as given: no API call (aws-runas behaviour). */
import { isInstanceId } from "../spec.js";
import type { TargetResolver } from "../types.js";

export const instanceIdResolver: TargetResolver = {
  name: "instance-id",
  resolve: async (target) =>
    isInstanceId(target)
      ? { kind: "found", matches: [{ instanceId: target }], via: "instance id" }
      : { kind: "none" },
};
