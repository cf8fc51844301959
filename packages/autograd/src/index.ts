/**
 * @file The public surface of @chainrule/autograd: every export is named here.
 */

export { type CustomOpDefinition, customOp } from "./custom.js";
export { ChainruleError } from "./errors.js";
export { grad, jvp, valueAndGrad, vjp } from "./functional.js";
export {
  type Blame,
  checkSubject,
  DEFAULT_TOLERANCES,
  type Dtype,
  type GradcheckElement,
  type GradcheckOptions,
  type GradcheckReport,
  gradcheck,
  gradcheckModule,
  gradgradcheck,
  type HasNamedParameters,
  type ModuleCheckOptions,
  type ModuleCheckReport,
  type Subject,
  type SubjectInput,
  type Tolerance,
} from "./gradcheck.js";
export { type GraphNode, topoSort } from "./graph.js";
export { type GemmBackend, gemmThreads, setGemmBackend, setGemmThreads } from "./kernels/matmul.js";
export type { Dtype as TensorDtype, FloatArray } from "./ndarray.js";
export { mm } from "./ops/matmul.js";
export type { IndexLike, SliceRange } from "./ops/movement.js";
export { Random } from "./random.js";
export { type BinaryOp, type BinaryRule, binary, powRule, type UnaryOp, type UnaryRule, unary } from "./rules.js";
export { broadcastShapes, formatShape, type Shape, sameShape } from "./shape.js";
export {
  arange,
  type BackwardFn,
  type BackwardOptions,
  type CreateOptions,
  concat,
  detectAnomaly,
  eye,
  fromStorage,
  full,
  isGradEnabled,
  linspace,
  type NestedArray,
  noGrad,
  ones,
  onesLike,
  rand,
  randn,
  setAnomalyDetection,
  stack,
  Tensor,
  type TensorLike,
  type TensorOptions,
  type TensorStep,
  tensor,
  where,
  withGradMode,
  zeros,
  zerosLike,
} from "./tensor.js";
export { Value, type ValueStep, zeroGrad } from "./value.js";
export {
  type Chain,
  type ChainFactor,
  type ChainOptions,
  type ChainPath,
  chainFor,
  type FormatChainOptions,
  formatChain,
} from "./viz/chain.js";
export { type DotOptions, type NodeKind, nodeKind, toDot } from "./viz/dot.js";
export type { GraphValue } from "./viz/format.js";
export { type GroupFn, groupByLabelPrefix, type LabelGroupOptions } from "./viz/groups.js";
export { renderDotToSvg, renderSvg } from "./viz/svg.js";
export {
  type FormatTraceOptions,
  formatTrace,
  gradientsAfter,
  type Trace,
  type TraceEdge,
  type TraceOptions,
  type TraceStep,
  traceBackward,
} from "./viz/trace.js";
