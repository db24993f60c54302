export { Graph, Sym, concat, gather, type Dim, type Shape } from './graph';
export { grad } from './autodiff';
export { toOnnx, OPSET } from './onnx';
export { evalGraph64 } from './reference';
export { SessionCache, CompiledGraph, type EngineOptions, type ExecutionProvider } from './session';
export { Tensor, sizeOf } from './tensor';
