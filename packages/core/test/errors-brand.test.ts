/**
 * Errors recognised across copies of core: a plugin package that bundles or installs its own copy
 * throws errors whose classes are not the runtime's, and `instanceof` must still know them.
 */
import { copyFile, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  ConfigError,
  DeliveryError,
  isTrailrouterError,
  ObjectFetchError,
  PluginError,
  TrailrouterError,
} from "@trailrouter/core";
import { describe, expect, it } from "vitest";

/** Another copy of core's built errors module, as a plugin that brings its own copy loads it. */
async function anotherCopy(): Promise<typeof import("../src/errors.js")> {
  const built = fileURLToPath(new URL("../dist/errors.js", import.meta.url));
  const copy = path.join(await mkdtemp(path.join(tmpdir(), "core-copy-")), "errors.js");
  await copyFile(built, copy);
  await copyFile(`${built}.map`, `${copy}.map`);
  return import(/* @vite-ignore */ pathToFileURL(copy).href);
}

describe("trailrouter's errors across copies of core", () => {
  it("are a second module instance, whose classes are not ours", async () => {
    const copy = await anotherCopy();
    expect(copy.DeliveryError).not.toBe(DeliveryError);
    expect(Object.getPrototypeOf(new copy.DeliveryError("X", "x")) === DeliveryError.prototype).toBe(false);
  });

  it("are recognised by instanceof, each by its own class and its ancestors only", async () => {
    const copy = await anotherCopy();
    const delivery = new copy.DeliveryError("InvalidMessageContents", "refused");
    expect(delivery instanceof DeliveryError).toBe(true);
    expect(delivery instanceof TrailrouterError).toBe(true);
    expect(delivery instanceof Error).toBe(true);
    expect(delivery instanceof ObjectFetchError).toBe(false);
    expect(delivery instanceof PluginError).toBe(false);
    expect(isTrailrouterError(delivery)).toBe(true);
    expect(new copy.ConfigError([{ path: "", message: "m" }]) instanceof ConfigError).toBe(true);
    // And the other way round.
    expect(new PluginError("P", "p") instanceof copy.PluginError).toBe(true);
  });

  it("leaves other errors alone, and a plugin's own subclass works as a class does", () => {
    class WebhookError extends DeliveryError {}
    const own = new WebhookError("Gone", "410");
    expect(own instanceof WebhookError).toBe(true);
    expect(own instanceof DeliveryError).toBe(true);
    expect(new DeliveryError("X", "x") instanceof WebhookError).toBe(false);
    expect(new Error("plain") instanceof TrailrouterError).toBe(false);
    expect(isTrailrouterError({ code: "X", stage: "deliver" })).toBe(false);
    expect(isTrailrouterError(null)).toBe(false);
  });
});
