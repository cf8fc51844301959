/**
 * @file The public surface of @chainrule/nn.
 */

export {};
