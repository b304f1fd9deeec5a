import { eventNameMatcher } from "./matchers/event-name.js";
import { eventPatternMatcher } from "./matchers/event-pattern.js";
import type { AnyPlugin } from "./plugin.js";

/** The plugins every registry starts with. */
export const builtinPlugins: readonly AnyPlugin[] = [eventPatternMatcher, eventNameMatcher];
