/**
 * @file The public surface of @chainrule/nn: every export is named here. Layers and models
 * (module.ts, linear.ts, mlp.ts, activations.ts), the scalar flavour (scalar.ts), losses,
 * initializers, optimizers, data helpers (data.ts, dataloader.ts), metrics, and model files
 * (serialization.ts over safetensors.ts).
 *
 * @module @chainrule/nn
 */

export {
  ACTIVATIONS,
  type ActivationName,
  activationFunction,
  Identity,
  identity,
  LeakyReLU,
  leakyRelu,
  ReLU,
  relu,
  Sigmoid,
  Softmax,
  sigmoid,
  softmax,
  Tanh,
  tanh,
} from "./activations.js";
export {
  Conv1d,
  Conv2d,
  type ConvLayerOptions,
  ConvTranspose2d,
  type ConvTransposeLayerOptions,
} from "./conv.js";
export { type BatchOptions, batches, oneHot } from "./data.js";
export {
  type Collate,
  DataLoader,
  type DataLoaderOptions,
  type Dataset,
  type DefaultBatch,
  defaultCollate,
  TensorDataset,
} from "./dataloader.js";
export { Dropout, type DropoutOptions } from "./dropout.js";
export { Embedding, type EmbeddingOptions } from "./embedding.js";
export {
  calculateGain,
  constant_,
  fans,
  gaussian12_,
  heNormal_,
  heUniform_,
  normal_,
  symmetricUniform_,
  uniform_,
  xavierNormal_,
  xavierUniform_,
  zeros_,
} from "./init.js";
export { initLinear, LINEAR_INITS, Linear, type LinearInit, type LinearOptions } from "./linear.js";
export {
  type BinaryCrossEntropyOptions,
  binaryCrossEntropy,
  binaryCrossEntropyWithLogits,
  type CrossEntropyOptions,
  crossEntropy,
  type MSELossOptions,
  mseLoss,
  quadraticCost,
  type Reduction,
} from "./losses.js";
export {
  accuracy,
  type ClassificationReport,
  type ClassMetricOptions,
  confusionMatrix,
  type Labels,
  type MetricOptions,
  precisionRecallF1,
} from "./metrics.js";
export { MLP, type MLPOptions } from "./mlp.js";
export { buffer, type LoadStateDictOptions, Module, type ModuleConfig, parameter, Sequential } from "./module.js";
export { formatHealth, GradientMonitor, type GradientMonitorOptions, type LayerHealth } from "./monitor.js";
export {
  BatchNorm1d,
  BatchNorm2d,
  type BatchNormOptions,
  GroupNorm,
  type GroupNormOptions,
  LayerNorm,
  type LayerNormOptions,
} from "./norm.js";
export {
  Adam,
  type AdamOptions,
  AdamW,
  type ClipGradNormOptions,
  CosineAnnealingLR,
  clipGradNorm,
  type Hyperparameters,
  Optimizer,
  type OptimizerStateDict,
  SGD,
  type SGDOptions,
  StepLR,
} from "./optim.js";
export {
  AdaptiveAvgPool2d,
  AvgPool2d,
  type AvgPool2dOptions,
  Flatten,
  MaxPool2d,
  type MaxPool2dOptions,
} from "./pool.js";
export {
  decodeSafetensors,
  encodeSafetensors,
  loadSafetensors,
  type SafetensorsDtype,
  type SafetensorsFile,
  type SafetensorsFileHandle,
  type SafetensorsFileSystem,
  type StoredTensor,
  saveSafetensors,
} from "./safetensors.js";
export {
  Layer,
  Neuron,
  type ScalarActivation,
  type ScalarInit,
  ScalarMLP,
  ScalarModule,
  type ScalarOptions,
} from "./scalar.js";
export {
  decodeModel,
  decodeOptimizer,
  encodeModel,
  encodeOptimizer,
  FORMAT_VERSION,
  type LoadedModel,
  type LoadModelOptions,
  loadModel,
  loadOptimizer,
  type SaveOptions,
  saveModel,
  saveOptimizer,
} from "./serialization.js";
export { type ModelSummary, type SummaryOptions, type SummaryRow, summary } from "./summary.js";
