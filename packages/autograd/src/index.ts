/**
 * @file The public surface of @chainrule/autograd: every export is named here.
 */

export { ChainruleError } from "./errors.js";
export {
  checkSubject,
  DEFAULT_TOLERANCES,
  type Dtype,
  type GradcheckElement,
  type GradcheckOptions,
  type GradcheckReport,
  gradcheck,
  type Subject,
  type SubjectInput,
} from "./gradcheck.js";
export { type GraphNode, topoSort } from "./graph.js";
export { Random } from "./random.js";
export { type BinaryOp, type BinaryRule, binary, powRule, type UnaryOp, type UnaryRule, unary } from "./rules.js";
export { Value, zeroGrad } from "./value.js";
