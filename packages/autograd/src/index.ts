/**
 * @file The public surface of @chainrule/autograd: every export is named here.
 *
 * @module @chainrule/autograd
 */

export { type CustomOpDefinition, customOp } from "./custom.js";
export {
  type BackwardFn,
  type BackwardOptions,
  detectAnomaly,
  isGradEnabled,
  type JvpFn,
  noGrad,
  setAnomalyDetection,
  type TensorStep,
  withGradMode,
} from "./engine.js";
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
export type { Dtype as TensorDtype, FloatArray, FloatDtype, Storage } from "./ndarray.js";
export {
  type ConvOptions,
  type ConvTransposeOptions,
  conv1d,
  conv2d,
  convTranspose2d,
  type SizeArg,
} from "./ops/conv.js";
export { cumprod, cumsum, logcumsumexp } from "./ops/cumulative.js";
export { einsum } from "./ops/einsum.js";
export type { GeluApproximate } from "./ops/elementwise.js";
export { gather, type IndexTensorLike, indexSelect, scatterAdd } from "./ops/indexing.js";
export { mm } from "./ops/matmul.js";
export type { IndexLike, SliceRange } from "./ops/movement.js";
export { type DropoutOptions, dropout, type EmbeddingIds, embedding } from "./ops/nn.js";
export {
  type BatchNormOptions,
  batchNorm,
  type GroupNormOptions,
  groupNorm,
  type LayerNormOptions,
  layerNorm,
} from "./ops/norm.js";
export {
  type AvgPoolOptions,
  adaptiveAvgPool2d,
  avgPool2d,
  type MaxPoolOptions,
  maxPool2d,
} from "./ops/pool.js";
export type { PadMode, PadOptions } from "./ops/rearrange.js";
export type { VarianceOptions } from "./ops/reduce.js";
export { type Sorted, sort, topk } from "./ops/sort.js";
export { DEFAULT_SEED, defaultRandom, manualSeed, Random } from "./random.js";
export {
  type BinaryOp,
  type BinaryRule,
  binary,
  geluTanhRule,
  powRule,
  type UnaryOp,
  type UnaryRule,
  unary,
} from "./rules.js";
export { broadcastShapes, formatShape, type Shape, sameShape } from "./shape.js";
export { erf, roundHalfEven } from "./special.js";
export {
  arange,
  type CreateOptions,
  concat,
  eye,
  fromStorage,
  full,
  linspace,
  type NestedArray,
  ones,
  onesLike,
  type RandnOptions,
  type RandOptions,
  rand,
  randn,
  stack,
  Tensor,
  type TensorLike,
  type TensorOptions,
  tensor,
  where,
  zeros,
  zerosLike,
} from "./tensor.js";
export { hessian, hvp, jacfwd, jacrev } from "./transforms/jacobian.js";
export { type VmapOptions, vmap } from "./transforms/vmap.js";
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
