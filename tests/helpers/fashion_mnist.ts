/**
 * @fileoverview Fashion-MNIST for the on-device learning test (issue 5), read from the Debian package
 * `dataset-fashion-mnist` (installed by scripts/setup), which ships the four original gzipped IDX files in
 * /usr/share/datasets/fashion-mnist:
 *   train-images-idx3-ubyte.gz (60000×28×28 u8), train-labels-idx1-ubyte.gz (60000 u8),
 *   t10k-images-idx3-ubyte.gz (10000×28×28 u8), t10k-labels-idx1-ubyte.gz (10000 u8).
 *
 * Each image becomes a CIFAR-shaped model input: 28×28 is zero-padded by 2 pixels on every side to 32×32,
 * the grey value is replicated to 3 channels, the layout is NHWC ([1, 32, 32, 3], channel fastest), and every
 * value is quantized to the model's int8 input quantization:
 *   real = pixel * pixelScale;   q = clamp(roundHalfEven(real / scale) + zeroPoint, -128, 127).
 *
 * Real-value mapping. The MLPerf Tiny ResNet-8 (../shared/models/mlperf-tiny/pretrainedResnet_quant.tflite)
 * has input `input_1_int8` [1,32,32,3] int8 with scale = 1, zeroPoint = -128, i.e. its real input range is
 * [-128 + 128, 127 + 128] · 1 = [0, 255]: it was calibrated (and trained) on raw 0..255 pixels, not on pixel/255.
 * Mapping pixel/255 would put every pixel in [0, 1] → q ∈ {-128, -127} and destroy the image. So the default
 * `pixelScale` is 1 (real value = pixel), which for ResNet-8 gives exactly q = pixel - 128 (padding: -128).
 * Pass `pixelScale: 1 / 255` for a model whose input quantization covers [0, 1].
 *
 * Loading is deterministic: the first `train` images of the training file and the first `test` images of the
 * t10k file. A missing dataset is an error naming the package to install (the learning test must not skip).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

export const FASHION_MNIST_PACKAGE = 'dataset-fashion-mnist';
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
] as const;

/** Input quantization of MLPerf Tiny ResNet-8 (checked in the .tflite: scale 1, zero point -128). */
export const RESNET8_INPUT_QUANT: InputQuantization = { scale: 1, zeroPoint: -128 };

export const IMAGE_SIDE = 32;
export const IMAGE_CHANNELS = 3;
/** Bytes of one quantized image: 32 * 32 * 3 = 3072. */
export const IMAGE_BYTES = IMAGE_SIDE * IMAGE_SIDE * IMAGE_CHANNELS;

export interface InputQuantization {
  readonly scale: number;
  readonly zeroPoint: number;
}

export interface FashionMnistOptions {
  /** How many training images (the first N of the 60000). */
  readonly train: number;
  /** How many held-out images (the first M of the 10000 t10k images). */
  readonly test: number;
  /** The model's int8 input quantization, e.g. RESNET8_INPUT_QUANT. */
  readonly quantization: InputQuantization;
  /** real value = pixel * pixelScale before quantizing; default 1 (see the file comment). */
  readonly pixelScale?: number;
  /** Directory holding the four .gz IDX files (or ungzipped ones); default FASHION_MNIST_DIR. */
  readonly dir?: string;
}

export interface FashionMnistSplit {
  /** One Int8Array of IMAGE_BYTES per image: NHWC [1, 32, 32, 3], quantized. */
  readonly images: Int8Array[];
  /** Class index 0..9 per image. */
  readonly labels: Int32Array;
}

export interface FashionMnist {
  readonly train: FashionMnistSplit;
  readonly test: FashionMnistSplit;
}

/** Loads the first `train` training and first `test` held-out images, quantized for the model input. */
export function loadFashionMnist(options: FashionMnistOptions): FashionMnist {
  const dir = options.dir ?? FASHION_MNIST_DIR;
  const pixelScale = options.pixelScale ?? 1;
  return {
    train: loadSplit(dir, 'train', options.train, options.quantization, pixelScale),
    test: loadSplit(dir, 't10k', options.test, options.quantization, pixelScale),
  };
}

/** Raw 28×28 u8 images (row-major) and labels of the first `count` entries of a split ('train' | 't10k'). */
export function readFashionMnistRaw(
  split: 'train' | 't10k',
  count: number,
  dir: string = FASHION_MNIST_DIR,
): { images: Uint8Array[]; labels: Int32Array } {
  const imageFile = readIdx(dir, `${split}-images-idx3-ubyte`);
  const labelFile = readIdx(dir, `${split}-labels-idx1-ubyte`);
  const imgs = parseIdx(imageFile, 0x0803, `${split} images`);
  const lbls = parseIdx(labelFile, 0x0801, `${split} labels`);
  const [n, rows, cols] = imgs.dims;
  if (rows !== 28 || cols !== 28) throw new Error(`Fashion-MNIST ${split} images are ${rows}×${cols}, expected 28×28`);
  if (lbls.dims[0] !== n) throw new Error(`Fashion-MNIST ${split}: ${n} images but ${lbls.dims[0]} labels`);
  if (!Number.isInteger(count) || count < 0 || count > n) {
    throw new Error(`Fashion-MNIST ${split}: asked for ${count} images, the file has ${n}`);
  }
  const images: Uint8Array[] = [];
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    images.push(imgs.data.subarray(i * 784, (i + 1) * 784));
    const l = lbls.data[i];
    if (l > 9) throw new Error(`Fashion-MNIST ${split} label ${i} is ${l}`);
    labels[i] = l;
  }
  return { images, labels };
}

/** Quantizes one real value: clamp(roundHalfEven(real / scale) + zeroPoint, -128, 127). */
export function quantizeReal(real: number, q: InputQuantization): number {
  const v = roundHalfEven(real / q.scale) + q.zeroPoint;
  return v < -128 ? -128 : v > 127 ? 127 : v;
}

/** 28×28 u8 → 32×32×3 int8 NHWC (2-pixel zero border, grey replicated to 3 channels). */
export function toModelInput(pixels: Uint8Array, q: InputQuantization, pixelScale = 1): Int8Array {
  if (pixels.length !== 784) throw new Error(`expected a 28×28 image, got ${pixels.length} pixels`);
  const lut = new Int8Array(256);
  for (let p = 0; p < 256; p++) lut[p] = quantizeReal(p * pixelScale, q);
  const out = new Int8Array(IMAGE_BYTES).fill(lut[0]);
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      const v = lut[pixels[y * 28 + x]];
      const o = ((y + 2) * IMAGE_SIDE + (x + 2)) * IMAGE_CHANNELS;
      out[o] = v;
      out[o + 1] = v;
      out[o + 2] = v;
    }
  }
  return out;
}

function loadSplit(dir: string, split: 'train' | 't10k', count: number, q: InputQuantization, pixelScale: number): FashionMnistSplit {
  const raw = readFashionMnistRaw(split, count, dir);
  return { images: raw.images.map((p) => toModelInput(p, q, pixelScale)), labels: raw.labels };
}

function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

const cache = new Map<string, Uint8Array>();

function readIdx(dir: string, base: string): Uint8Array {
  const gz = join(dir, `${base}.gz`);
  const plain = join(dir, base);
  const hit = cache.get(gz);
  if (hit) return hit;
  let bytes: Uint8Array;
  if (existsSync(gz)) bytes = gunzipSync(readFileSync(gz));
  else if (existsSync(plain)) bytes = readFileSync(plain);
  else {
    throw new Error(
      `Fashion-MNIST not found: neither ${gz} nor ${plain} exists. Install the Debian package ` +
        `'${FASHION_MNIST_PACKAGE}' (sudo apt-get install ${FASHION_MNIST_PACKAGE}; scripts/setup does it).`,
    );
  }
  cache.set(gz, bytes);
  return bytes;
}

function parseIdx(bytes: Uint8Array, magic: number, what: string): { dims: number[]; data: Uint8Array } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 8 || view.getUint32(0) !== magic) {
    throw new Error(`Fashion-MNIST ${what}: not an IDX u8 file with magic 0x${magic.toString(16)}`);
  }
  const rank = magic & 0xff;
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i));
  const start = 4 + 4 * rank;
  const size = dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== start + size) throw new Error(`Fashion-MNIST ${what}: ${bytes.length} bytes, expected ${start + size}`);
  return { dims, data: bytes.subarray(start) };
}
