export {
  CLOSE_GRACE_MS,
  FLUSH_ROUTED_RECORDS,
  Pipeline,
  type PipelineDependencies,
  type RunOptions,
} from "./pipeline.js";
export {
  type CompiledRoute,
  type RouteDefinition,
  RoutedBatch,
  Router,
  type SetRoute,
} from "./router.js";
export { type RunPipelinesOptions, runPipelines } from "./run.js";
export { type PipelineSummary, type RunSummary, summarize } from "./summary.js";
