;; @file WebAssembly SIMD kernels for C = op(A)·op(B) in float32 (f32x4) and float64 (f64x2),
;; the y ← y + α·x of the optimizers' updates, ReLU with its backward step, and the four arithmetic
;; ops (at the end).
;; Assembled by scripts/build-wasm.mjs into gemm-wasm.generated.ts; driven by kernels/matmul.ts,
;; which copies the operands into this module's memory, calls `gemm_*` (the loop nest over the
;; cache blocks, near the end) and copies C back out. Imports nothing (the build for worker threads
;; imports its memory, shared).
;;
;; The structure is the one of GotoBLAS/BLIS. C is cut into blocks; for each block the driver
;; packs a kc×nc slab of op(B) and an mc×kc block of op(A) into contiguous "panels" (pack_*),
;; and the macro-kernel sweeps the block tile by tile with a register-blocked micro-kernel:
;;
;;   for j in 0..nc step NR          B micro-panel [kc×NR]   stays in L1 across the i loop
;;     for i in 0..mc step MR        A micro-panel [MR×kc]   streams from the A block in L2
;;       C[i:i+MR, j:j+NR] (+)= A-panel · B-panel            MR×NR sums live in registers
;;
;; A tile of C is MR×NR = 4×8 (f32) or 4×4 (f64), i.e. 8 v128 accumulators either way. Each step
;; p of the micro-kernel loads one row of the B panel (2 vectors), broadcasts each of the 4 values
;; of column p of the A panel (v128.load32_splat / load64_splat), and does 8 multiplies and 8 adds.
;; WebAssembly SIMD has no fused multiply-add, so each product is rounded and then added, and
;; every entry of C receives its products in the order p = 0, 1, …, k − 1 (a later slab of k
;; starts from the C left by the earlier ones): the result is bit for bit that of the textbook
;; loop `s += a·b` in the same dtype.
;;
;; Fused variant: scripts/build-wasm.mjs also assembles this text with each `cRJ + x·bJ` of the two
;; micro-kernels written as `f32x4.relaxed_madd (x, bJ, cRJ)` (f64x2 likewise), for engines with
;; relaxed SIMD. The engine may run it fused (one rounding per multiply-add: the x64 and arm64
;; engines do where the CPU has FMA) or not (then the same bits as here); either way the order of
;; the sums is the same, and the error stays within the textbook bound (k + 1)·ε·Σ|a·b|. The
;; register budget is then one vector lighter (no product register).
;;
;; Register budget: x64 engines have 16 xmm registers and V8 keeps one as scratch. 8 accumulators,
;; 2 B vectors, one broadcast A value and one product fit; a 5×8 or 6×8 tile spills to the stack.
;; Eight independent accumulators also hide the 3-cycle latency of the adds on two add pipes.
;;
;; Unrolling: the step loop is unrolled 8 times to spread the loop overhead (including the stack
;; check V8 puts on every back edge), and each copy of the step ends in its own exit test. That
;; exit matters: V8's optimising compiler hoists all the loads of a straight-line block to its top,
;; which for an unrolled body without exits needs more registers than exist and spills; with an
;; exit after each step, each step is its own block. Measured on Zen 4 (Node 20), a kernel with
;; its data in L1 reaches about 87% of the mul+add peak of 128-bit SIMD (16 f32 / 8 f64 flops per
;; cycle), against about 70% for the plain loop.
;;
;; Packing zero-pads the last panel to a full MR or NR, so the micro-kernel never branches on the
;; tile size; padded rows and columns only feed parts of a tile that are never stored (edge tiles
;; go through a scratch tile, and only their valid part is copied into C). k is never padded:
;; 0·∞ would turn a padded product into NaN inside a valid sum.
;;
;; All addresses are byte offsets into the memory; strides and sizes are in elements.

(module
  (memory (export "memory") 1)

  ;; ---------------------------------------------------------------------------------------------
  ;; Packing. Element (r, p) of the source block is at src + (r·rs + p·cs)·size, for r < rows and
  ;; p < kc. It is written to panel ⌊r/panel⌋, at position p·panel + r mod panel, where each panel
  ;; holds kc·panel elements: one column p of a panel is `panel` consecutive values. Rows past
  ;; `rows` in the last panel are zero. With (rs, cs) = (k, 1) or (1, m) the same routine packs A
  ;; or Aᵀ into MR-row panels; with rows = the n dimension it packs B or Bᵀ into NR-column panels.
  ;; So transposition costs nothing beyond reading with other strides.
  ;;
  ;; A full panel takes one of two fast paths, by source layout:
  ;;  - rs = 1 (Aᵀ, or B): the `panel` values of one p are adjacent in the source, so the panel
  ;;    is a strided copy of 16- or 32-byte rows ($copyRows);
  ;;  - cs = 1 (A, or Bᵀ): each source row is contiguous along p, so the panel is built from
  ;;    4×4 (f32) or 2×2 (f64) blocks transposed in registers, four (two) p at a time.
  ;; What is left (the last, partial panel and the last kc mod 4 columns) goes element by element.
  ;; ---------------------------------------------------------------------------------------------

  ;; kc rows of `bytes` (a multiple of 16) from src, rows `stride` bytes apart, to dst, packed.
  (func $copyRows (param $src i32) (param $stride i32) (param $bytes i32) (param $kc i32) (param $dst i32)
    (local $q i32)
    (loop $rows
      (local.set $q (i32.const 0))
      (loop $chunks
        (v128.store (i32.add (local.get $dst) (local.get $q)) (v128.load (i32.add (local.get $src) (local.get $q))))
        (br_if $chunks (i32.lt_u (local.tee $q (i32.add (local.get $q) (i32.const 16))) (local.get $bytes))))
      (local.set $src (i32.add (local.get $src) (local.get $stride)))
      (local.set $dst (i32.add (local.get $dst) (local.get $bytes)))
      (br_if $rows (local.tee $kc (i32.sub (local.get $kc) (i32.const 1))))))

  ;; f32, cs = 1: for each group of 4 source rows (stride `stride` bytes) and each 4 columns p,
  ;; load the 4×4 block as 4 row vectors, transpose, and store the 4 column vectors to the columns
  ;; p..p+3 of the panel, whose columns are `colBytes` apart. Returns the first p not packed.
  (func $transpose_f32 (param $src i32) (param $stride i32) (param $panel i32) (param $kc i32) (param $dst i32)
    (result i32)
    (local $g i32) (local $s i32) (local $d i32) (local $p i32) (local $colBytes i32) (local $kc4 i32)
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128) (local $t0 v128) (local $t1 v128)
    (local $t2 v128) (local $t3 v128)
    (local.set $kc4 (i32.and (local.get $kc) (i32.const -4)))
    (if (i32.eqz (local.get $kc4)) (then (return (i32.const 0))))
    (local.set $colBytes (i32.shl (local.get $panel) (i32.const 2)))
    (loop $groups
      (local.set $s (i32.add (local.get $src) (i32.mul (local.get $g) (local.get $stride))))
      (local.set $d (i32.add (local.get $dst) (i32.shl (local.get $g) (i32.const 2))))
      (local.set $p (i32.const 0))
      (loop $blocks
        ;; rows xR = (aR0, aR1, aR2, aR3) of the block
        (local.set $x0 (v128.load (local.get $s)))
        (local.set $x1 (v128.load (i32.add (local.get $s) (local.get $stride))))
        (local.set $x2 (v128.load (i32.add (local.get $s) (i32.shl (local.get $stride) (i32.const 1)))))
        (local.set $x3 (v128.load (i32.add (local.get $s) (i32.mul (local.get $stride) (i32.const 3)))))
        ;; interleave pairs of rows: t0 = (a00 a10 a01 a11), t1 = (a02 a12 a03 a13), t2, t3 likewise
        (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $x0) (local.get $x1)))
        (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $x0) (local.get $x1)))
        (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $x2) (local.get $x3)))
        (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $x2) (local.get $x3)))
        ;; then pairs of halves: column q = (a0q a1q a2q a3q)
        (v128.store (local.get $d)
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
        (v128.store (i32.add (local.get $d) (local.get $colBytes))
          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
        (local.set $d (i32.add (local.get $d) (i32.shl (local.get $colBytes) (i32.const 1))))
        (v128.store (local.get $d)
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
        (v128.store (i32.add (local.get $d) (local.get $colBytes))
          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
        (local.set $d (i32.add (local.get $d) (i32.shl (local.get $colBytes) (i32.const 1))))
        (local.set $s (i32.add (local.get $s) (i32.const 16)))
        (br_if $blocks (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 4))) (local.get $kc4))))
      (br_if $groups (i32.lt_u (local.tee $g (i32.add (local.get $g) (i32.const 4))) (local.get $panel))))
    (local.get $kc4))

  ;; f64, cs = 1: the same with 2×2 blocks of doubles, two columns p at a time.
  (func $transpose_f64 (param $src i32) (param $stride i32) (param $panel i32) (param $kc i32) (param $dst i32)
    (result i32)
    (local $g i32) (local $s i32) (local $d i32) (local $p i32) (local $colBytes i32) (local $kc2 i32)
    (local $x0 v128) (local $x1 v128)
    (local.set $kc2 (i32.and (local.get $kc) (i32.const -2)))
    (if (i32.eqz (local.get $kc2)) (then (return (i32.const 0))))
    (local.set $colBytes (i32.shl (local.get $panel) (i32.const 3)))
    (loop $groups
      (local.set $s (i32.add (local.get $src) (i32.mul (local.get $g) (local.get $stride))))
      (local.set $d (i32.add (local.get $dst) (i32.shl (local.get $g) (i32.const 3))))
      (local.set $p (i32.const 0))
      (loop $blocks
        (local.set $x0 (v128.load (local.get $s)))
        (local.set $x1 (v128.load (i32.add (local.get $s) (local.get $stride))))
        ;; (a00 a01), (a10 a11) → columns (a00 a10), (a01 a11)
        (v128.store (local.get $d)
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $x0) (local.get $x1)))
        (v128.store (i32.add (local.get $d) (local.get $colBytes))
          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $x0) (local.get $x1)))
        (local.set $d (i32.add (local.get $d) (i32.shl (local.get $colBytes) (i32.const 1))))
        (local.set $s (i32.add (local.get $s) (i32.const 16)))
        (br_if $blocks (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 2))) (local.get $kc2))))
      (br_if $groups (i32.lt_u (local.tee $g (i32.add (local.get $g) (i32.const 2))) (local.get $panel))))
    (local.get $kc2))

  (func $pack_f32
    (param $src i32) (param $rs i32) (param $cs i32) (param $rows i32) (param $kc i32)
    (param $panel i32) (param $dst i32)
    (local $r0 i32) (local $r i32) (local $p0 i32) (local $p i32) (local $s i32) (local $d i32)
    (local $panelBytes i32) (local $csBytes i32) (local $colBytes i32)
    (local.set $csBytes (i32.shl (local.get $cs) (i32.const 2)))
    (local.set $colBytes (i32.shl (local.get $panel) (i32.const 2)))
    (local.set $panelBytes (i32.mul (local.get $kc) (local.get $colBytes)))
    ;; r0: first row of the current panel; p0: first column left for the element-wise loop
    (block $panelsDone
      (loop $panels
        (br_if $panelsDone (i32.ge_u (local.get $r0) (local.get $rows)))
        (local.set $p0 (i32.const 0))
        (if (i32.le_u (i32.add (local.get $r0) (local.get $panel)) (local.get $rows))
          (then
            (if (i32.eq (local.get $rs) (i32.const 1))
              (then
                (call $copyRows (i32.add (local.get $src) (i32.shl (local.get $r0) (i32.const 2)))
                  (local.get $csBytes) (local.get $colBytes) (local.get $kc) (local.get $dst))
                (local.set $p0 (local.get $kc)))
              (else
                (if (i32.eq (local.get $cs) (i32.const 1))
                  (then
                    (local.set $p0
                      (call $transpose_f32
                        (i32.add (local.get $src) (i32.shl (i32.mul (local.get $r0) (local.get $rs)) (i32.const 2)))
                        (i32.shl (local.get $rs) (i32.const 2)) (local.get $panel) (local.get $kc) (local.get $dst)))))))))
        ;; element by element: rows r of the panel, columns p0..kc−1; zeros past the last row
        (if (i32.lt_u (local.get $p0) (local.get $kc))
          (then
            (local.set $r (i32.const 0))
            (loop $rowsOfPanel
              (local.set $d (i32.add (local.get $dst)
                (i32.add (i32.mul (local.get $p0) (local.get $colBytes)) (i32.shl (local.get $r) (i32.const 2)))))
              (local.set $p (local.get $p0))
              (if (i32.lt_u (i32.add (local.get $r0) (local.get $r)) (local.get $rows))
                (then
                  (local.set $s (i32.add (local.get $src)
                    (i32.shl (i32.add (i32.mul (i32.add (local.get $r0) (local.get $r)) (local.get $rs))
                      (i32.mul (local.get $p0) (local.get $cs))) (i32.const 2))))
                  (loop $copy
                    (f32.store (local.get $d) (f32.load (local.get $s)))
                    (local.set $s (i32.add (local.get $s) (local.get $csBytes)))
                    (local.set $d (i32.add (local.get $d) (local.get $colBytes)))
                    (br_if $copy (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 1))) (local.get $kc)))))
                (else
                  (loop $zero
                    (f32.store (local.get $d) (f32.const 0))
                    (local.set $d (i32.add (local.get $d) (local.get $colBytes)))
                    (br_if $zero (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 1))) (local.get $kc))))))
              (br_if $rowsOfPanel (i32.lt_u (local.tee $r (i32.add (local.get $r) (i32.const 1))) (local.get $panel))))))
        (local.set $dst (i32.add (local.get $dst) (local.get $panelBytes)))
        (local.set $r0 (i32.add (local.get $r0) (local.get $panel)))
        (br $panels))))

  (func $pack_f64
    (param $src i32) (param $rs i32) (param $cs i32) (param $rows i32) (param $kc i32)
    (param $panel i32) (param $dst i32)
    (local $r0 i32) (local $r i32) (local $p0 i32) (local $p i32) (local $s i32) (local $d i32)
    (local $panelBytes i32) (local $csBytes i32) (local $colBytes i32)
    (local.set $csBytes (i32.shl (local.get $cs) (i32.const 3)))
    (local.set $colBytes (i32.shl (local.get $panel) (i32.const 3)))
    (local.set $panelBytes (i32.mul (local.get $kc) (local.get $colBytes)))
    (block $panelsDone
      (loop $panels
        (br_if $panelsDone (i32.ge_u (local.get $r0) (local.get $rows)))
        (local.set $p0 (i32.const 0))
        (if (i32.le_u (i32.add (local.get $r0) (local.get $panel)) (local.get $rows))
          (then
            (if (i32.eq (local.get $rs) (i32.const 1))
              (then
                (call $copyRows (i32.add (local.get $src) (i32.shl (local.get $r0) (i32.const 3)))
                  (local.get $csBytes) (local.get $colBytes) (local.get $kc) (local.get $dst))
                (local.set $p0 (local.get $kc)))
              (else
                (if (i32.eq (local.get $cs) (i32.const 1))
                  (then
                    (local.set $p0
                      (call $transpose_f64
                        (i32.add (local.get $src) (i32.shl (i32.mul (local.get $r0) (local.get $rs)) (i32.const 3)))
                        (i32.shl (local.get $rs) (i32.const 3)) (local.get $panel) (local.get $kc) (local.get $dst)))))))))
        (if (i32.lt_u (local.get $p0) (local.get $kc))
          (then
            (local.set $r (i32.const 0))
            (loop $rowsOfPanel
              (local.set $d (i32.add (local.get $dst)
                (i32.add (i32.mul (local.get $p0) (local.get $colBytes)) (i32.shl (local.get $r) (i32.const 3)))))
              (local.set $p (local.get $p0))
              (if (i32.lt_u (i32.add (local.get $r0) (local.get $r)) (local.get $rows))
                (then
                  (local.set $s (i32.add (local.get $src)
                    (i32.shl (i32.add (i32.mul (i32.add (local.get $r0) (local.get $r)) (local.get $rs))
                      (i32.mul (local.get $p0) (local.get $cs))) (i32.const 3))))
                  (loop $copy
                    (f64.store (local.get $d) (f64.load (local.get $s)))
                    (local.set $s (i32.add (local.get $s) (local.get $csBytes)))
                    (local.set $d (i32.add (local.get $d) (local.get $colBytes)))
                    (br_if $copy (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 1))) (local.get $kc)))))
                (else
                  (loop $zero
                    (f64.store (local.get $d) (f64.const 0))
                    (local.set $d (i32.add (local.get $d) (local.get $colBytes)))
                    (br_if $zero (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 1))) (local.get $kc))))))
              (br_if $rowsOfPanel (i32.lt_u (local.tee $r (i32.add (local.get $r) (i32.const 1))) (local.get $panel))))))
        (local.set $dst (i32.add (local.get $dst) (local.get $panelBytes)))
        (local.set $r0 (i32.add (local.get $r0) (local.get $panel)))
        (br $panels))))

  ;; ---------------------------------------------------------------------------------------------
  ;; f32 micro-kernel: the 4×8 tile at $c (row stride $ldc elements) is set to, or when
  ;; $accumulate ≠ 0 incremented by, Σ_p a[p]ᵀ·b[p] over kc ≥ 1 steps, where a[p] is 4 floats of
  ;; the A panel and b[p] 8 floats of the B panel. Accumulator cRJ holds row R, columns 4J..4J+3.
  ;; The 8 copies of the step differ only in the offset of the B row (the A pointer moves each
  ;; step, since the exits test it).
  ;; ---------------------------------------------------------------------------------------------

  (func $kernel_f32
    (param $kc i32) (param $a i32) (param $b i32) (param $c i32) (param $ldc i32) (param $accumulate i32)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $b0 v128) (local $b1 v128) (local $x v128)
    (local $c1 i32) (local $c2 i32) (local $c3 i32) (local $aEnd i32)
    ;; row addresses of the tile
    (local.set $ldc (i32.shl (local.get $ldc) (i32.const 2)))
    (local.set $c1 (i32.add (local.get $c) (local.get $ldc)))
    (local.set $c2 (i32.add (local.get $c1) (local.get $ldc)))
    (local.set $c3 (i32.add (local.get $c2) (local.get $ldc)))
    ;; start from C itself rather than add it at the end: the sums then continue in order of p
    (if (local.get $accumulate)
      (then
        (local.set $c00 (v128.load (local.get $c)))
        (local.set $c01 (v128.load offset=16 (local.get $c)))
        (local.set $c10 (v128.load (local.get $c1)))
        (local.set $c11 (v128.load offset=16 (local.get $c1)))
        (local.set $c20 (v128.load (local.get $c2)))
        (local.set $c21 (v128.load offset=16 (local.get $c2)))
        (local.set $c30 (v128.load (local.get $c3)))
        (local.set $c31 (v128.load offset=16 (local.get $c3)))))
    ;; the A panel advances 4 floats (16 bytes) per step
    (local.set $aEnd (i32.add (local.get $a) (i32.shl (local.get $kc) (i32.const 4))))
    (block $done
      (loop $steps
        ;; step 1 of 8: the B row at b + 32·(step − 1) bytes, the A column at a
        (local.set $b0 (v128.load (local.get $b)))
        (local.set $b1 (v128.load offset=16 (local.get $b)))
        (local.set $x (v128.load32_splat (local.get $a)))
        (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat offset=4 (local.get $a)))
        (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat offset=8 (local.get $a)))
        (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat offset=12 (local.get $a)))
        (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $x) (local.get $b1))))
        (br_if $done (i32.eq (local.tee $a (i32.add (local.get $a) (i32.const 16))) (local.get $aEnd)))
        ;; step 2 of 8
        (local.set $b0 (v128.load offset=32 (local.get $b)))
        (local.set $b1 (v128.load offset=48 (local.get $b)))
        (local.set $x (v128.load32_splat (local.get $a)))
        (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat offset=4 (local.get $a)))
        (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat offset=8 (local.get $a)))
        (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat offset=12 (local.get $a)))
        (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $x) (local.get $b1))))
        (br_if $done (i32.eq (local.tee $a (i32.add (local.get $a) (i32.const 16))) (local.get $aEnd)))
        ;; step 3 of 8
        (local.set $b0 (v128.load offset=64 (local.get $b)))
        (local.set $b1 (v128.load offset=80 (local.get $b)))
        (local.set $x (v128.load32_splat (local.get $a)))
        (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat offset=4 (local.get $a)))
        (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat offset=8 (local.get $a)))
        (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat offset=12 (local.get $a)))
        (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $x) (local.get $b1))))
        (br_if $done (i32.eq (local.tee $a (i32.add (local.get $a) (i32.const 16))) (local.get $aEnd)))
        ;; step 4 of 8
        (local.set $b0 (v128.load offset=96 (local.get $b)))
        (local.set $b1 (v128.load offset=112 (local.get $b)))
        (local.set $x (v128.load32_splat (local.get $a)))
        (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat offset=4 (local.get $a)))
        (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat offset=8 (local.get $a)))
        (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat offset=12 (local.get $a)))
        (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $x) (local.get $b1))))
        (br_if $done (i32.eq (local.tee $a (i32.add (local.get $a) (i32.const 16))) (local.get $aEnd)))
        ;; step 5 of 8
        (local.set $b0 (v128.load offset=128 (local.get $b)))
        (local.set $b1 (v128.load offset=144 (local.get $b)))
        (local.set $x (v128.load32_splat (local.get $a)))
        (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat offset=4 (local.get $a)))
        (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat offset=8 (local.get $a)))
        (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat offset=12 (local.get $a)))
        (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $x) (local.get $b1))))
        (br_if $done (i32.eq (local.tee $a (i32.add (local.get $a) (i32.const 16))) (local.get $aEnd)))
        ;; step 6 of 8
        (local.set $b0 (v128.load offset=160 (local.get $b)))
        (local.set $b1 (v128.load offset=176 (local.get $b)))
        (local.set $x (v128.load32_splat (local.get $a)))
        (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat offset=4 (local.get $a)))
        (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat offset=8 (local.get $a)))
        (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat offset=12 (local.get $a)))
        (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $x) (local.get $b1))))
        (br_if $done (i32.eq (local.tee $a (i32.add (local.get $a) (i32.const 16))) (local.get $aEnd)))
        ;; step 7 of 8
        (local.set $b0 (v128.load offset=192 (local.get $b)))
        (local.set $b1 (v128.load offset=208 (local.get $b)))
        (local.set $x (v128.load32_splat (local.get $a)))
        (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat offset=4 (local.get $a)))
        (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat offset=8 (local.get $a)))
        (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat offset=12 (local.get $a)))
        (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $x) (local.get $b1))))
        (br_if $done (i32.eq (local.tee $a (i32.add (local.get $a) (i32.const 16))) (local.get $aEnd)))
        ;; step 8 of 8
        (local.set $b0 (v128.load offset=224 (local.get $b)))
        (local.set $b1 (v128.load offset=240 (local.get $b)))
        (local.set $x (v128.load32_splat (local.get $a)))
        (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat offset=4 (local.get $a)))
        (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat offset=8 (local.get $a)))
        (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat offset=12 (local.get $a)))
        (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $b (i32.add (local.get $b) (i32.const 256)))
        (br_if $steps (i32.ne (local.tee $a (i32.add (local.get $a) (i32.const 16))) (local.get $aEnd)))))
    (v128.store (local.get $c) (local.get $c00))
    (v128.store offset=16 (local.get $c) (local.get $c01))
    (v128.store (local.get $c1) (local.get $c10))
    (v128.store offset=16 (local.get $c1) (local.get $c11))
    (v128.store (local.get $c2) (local.get $c20))
    (v128.store offset=16 (local.get $c2) (local.get $c21))
    (v128.store (local.get $c3) (local.get $c30))
    (v128.store offset=16 (local.get $c3) (local.get $c31)))

  ;; ---------------------------------------------------------------------------------------------
  ;; f64 micro-kernel: the same for a 4×4 tile of doubles; a[p] is 4 doubles, b[p] 4 doubles
  ;; (2 f64x2 vectors). Accumulator cRJ holds row R, columns 2J, 2J+1.
  ;; ---------------------------------------------------------------------------------------------

  (func $kernel_f64
    (param $kc i32) (param $a i32) (param $b i32) (param $c i32) (param $ldc i32) (param $accumulate i32)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $b0 v128) (local $b1 v128) (local $x v128)
    (local $c1 i32) (local $c2 i32) (local $c3 i32) (local $aEnd i32)
    (local.set $ldc (i32.shl (local.get $ldc) (i32.const 3)))
    (local.set $c1 (i32.add (local.get $c) (local.get $ldc)))
    (local.set $c2 (i32.add (local.get $c1) (local.get $ldc)))
    (local.set $c3 (i32.add (local.get $c2) (local.get $ldc)))
    (if (local.get $accumulate)
      (then
        (local.set $c00 (v128.load (local.get $c)))
        (local.set $c01 (v128.load offset=16 (local.get $c)))
        (local.set $c10 (v128.load (local.get $c1)))
        (local.set $c11 (v128.load offset=16 (local.get $c1)))
        (local.set $c20 (v128.load (local.get $c2)))
        (local.set $c21 (v128.load offset=16 (local.get $c2)))
        (local.set $c30 (v128.load (local.get $c3)))
        (local.set $c31 (v128.load offset=16 (local.get $c3)))))
    ;; the A panel advances 4 doubles (32 bytes) per step
    (local.set $aEnd (i32.add (local.get $a) (i32.shl (local.get $kc) (i32.const 5))))
    (block $done
      (loop $steps
        ;; step 1 of 8: the B row at b + 32·(step − 1) bytes, the A column at a
        (local.set $b0 (v128.load (local.get $b)))
        (local.set $b1 (v128.load offset=16 (local.get $b)))
        (local.set $x (v128.load64_splat (local.get $a)))
        (local.set $c00 (f64x2.add (local.get $c00) (f64x2.mul (local.get $x) (local.get $b0))))
        (local.set $c01 (f64x2.add (local.get $c01) (f64x2.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load64_splat offset=8 (local.get $a)))
        (local.set $c10 (f64x2.add (local.get $c10) (f64x2.mul (local.get $x) (local.get $b0))))
        (local.set $c11 (f64x2.add (local.get $c11) (f64x2.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load64_splat offset=16 (local.get $a)))
        (local.set $c20 (f64x2.add (local.get $c20) (f64x2.mul (local.get $x) (local.get $b0))))
        (local.set $c21 (f64x2.add (local.get $c21) (f64x2.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load64_splat offset=24 (local.get $a)))
        (local.set $c30 (f64x2.add (local.get $c30) (f64x2.mul (local.get $x) (local.get $b0))))
        (local.set $c31 (f64x2.add (local.get $c31) (f64x2.mul (local.get $x) (local.get $b1))))
        (br_if $done (i32.eq (local.tee $a (i32.add (local.get $a) (i32.const 32))) (local.get $aEnd)))
        ;; step 2 of 8
        (local.set $b0 (v128.load offset=32 (local.get $b)))
        (local.set $b1 (v128.load offset=48 (local.get $b)))
        (local.set $x (v128.load64_splat (local.get $a)))
        (local.set $c00 (f64x2.add (local.get $c00) (f64x2.mul (local.get $x) (local.get $b0))))
        (local.set $c01 (f64x2.add (local.get $c01) (f64x2.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load64_splat offset=8 (local.get $a)))
        (local.set $c10 (f64x2.add (local.get $c10) (f64x2.mul (local.get $x) (local.get $b0))))
        (local.set $c11 (f64x2.add (local.get $c11) (f64x2.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load64_splat offset=16 (local.get $a)))
        (local.set $c20 (f64x2.add (local.get $c20) (f64x2.mul (local.get $x) (local.get $b0))))
        (local.set $c21 (f64x2.add (local.get $c21) (f64x2.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load64_splat offset=24 (local.get $a)))
        (local.set $c30 (f64x2.add (local.get $c30) (f64x2.mul (local.get $x) (local.get $b0))))
        (local.set $c31 (f64x2.add (local.get $c31) (f64x2.mul (local.get $x) (local.get $b1))))
        (br_if $done (i32.eq (local.tee $a (i32.add (local.get $a) (i32.const 32))) (local.get $aEnd)))
        ;; step 3 of 8
        (local.set $b0 (v128.load offset=64 (local.get $b)))
        (local.set $b1 (v128.load offset=80 (local.get $b)))
        (local.set $x (v128.load64_splat (local.get $a)))
        (local.set $c00 (f64x2.add (local.get $c00) (f64x2.mul (local.get $x) (local.get $b0))))
        (local.set $c01 (f64x2.add (local.get $c01) (f64x2.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load64_splat offset=8 (local.get $a)))
        (local.set $c10 (f64x2.add (local.get $c10) (f64x2.mul (local.get $x) (local.get $b0))))
        (local.set $c11 (f64x2.add (local.get $c11) (f64x2.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load64_splat offset=16 (local.get $a)))
        (local.set $c20 (f64x2.add (local.get $c20) (f64x2.mul (local.get $x) (local.get $b0))))
        (local.set $c21 (f64x2.add (local.get $c21) (f64x2.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load64_splat offset=24 (local.get $a)))
        (local.set $c30 (f64x2.add (local.get $c30) (f64x2.mul (local.get $x) (local.get $b0))))
        (local.set $c31 (f64x2.add (local.get $c31) (f64x2.mul (local.get $x) (local.get $b1))))
        (br_if $done (i32.eq (local.tee $a (i32.add (local.get $a) (i32.const 32))) (local.get $aEnd)))
        ;; step 4 of 8
        (local.set $b0 (v128.load offset=96 (local.get $b)))
        (local.set $b1 (v128.load offset=112 (local.get $b)))
        (local.set $x (v128.load64_splat (local.get $a)))
        (local.set $c00 (f64x2.add (local.get $c00) (f64x2.mul (local.get $x) (local.get $b0))))
        (local.set $c01 (f64x2.add (local.get $c01) (f64x2.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load64_splat offset=8 (local.get $a)))
        (local.set $c10 (f64x2.add (local.get $c10) (f64x2.mul (local.get $x) (local.get $b0))))
        (local.set $c11 (f64x2.add (local.get $c11) (f64x2.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load64_splat offset=16 (local.get $a)))
        (local.set $c20 (f64x2.add (local.get $c20) (f64x2.mul (local.get $x) (local.get $b0))))
        (local.set $c21 (f64x2.add (local.get $c21) (f64x2.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load64_splat offset=24 (local.get $a)))
        (local.set $c30 (f64x2.add (local.get $c30) (f64x2.mul (local.get $x) (local.get $b0))))
        (local.set $c31 (f64x2.add (local.get $c31) (f64x2.mul (local.get $x) (local.get $b1))))
        (br_if $done (i32.eq (local.tee $a (i32.add (local.get $a) (i32.const 32))) (local.get $aEnd)))
        ;; step 5 of 8
        (local.set $b0 (v128.load offset=128 (local.get $b)))
        (local.set $b1 (v128.load offset=144 (local.get $b)))
        (local.set $x (v128.load64_splat (local.get $a)))
        (local.set $c00 (f64x2.add (local.get $c00) (f64x2.mul (local.get $x) (local.get $b0))))
        (local.set $c01 (f64x2.add (local.get $c01) (f64x2.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load64_splat offset=8 (local.get $a)))
        (local.set $c10 (f64x2.add (local.get $c10) (f64x2.mul (local.get $x) (local.get $b0))))
        (local.set $c11 (f64x2.add (local.get $c11) (f64x2.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load64_splat offset=16 (local.get $a)))
        (local.set $c20 (f64x2.add (local.get $c20) (f64x2.mul (local.get $x) (local.get $b0))))
        (local.set $c21 (f64x2.add (local.get $c21) (f64x2.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load64_splat offset=24 (local.get $a)))
        (local.set $c30 (f64x2.add (local.get $c30) (f64x2.mul (local.get $x) (local.get $b0))))
        (local.set $c31 (f64x2.add (local.get $c31) (f64x2.mul (local.get $x) (local.get $b1))))
        (br_if $done (i32.eq (local.tee $a (i32.add (local.get $a) (i32.const 32))) (local.get $aEnd)))
        ;; step 6 of 8
        (local.set $b0 (v128.load offset=160 (local.get $b)))
        (local.set $b1 (v128.load offset=176 (local.get $b)))
        (local.set $x (v128.load64_splat (local.get $a)))
        (local.set $c00 (f64x2.add (local.get $c00) (f64x2.mul (local.get $x) (local.get $b0))))
        (local.set $c01 (f64x2.add (local.get $c01) (f64x2.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load64_splat offset=8 (local.get $a)))
        (local.set $c10 (f64x2.add (local.get $c10) (f64x2.mul (local.get $x) (local.get $b0))))
        (local.set $c11 (f64x2.add (local.get $c11) (f64x2.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load64_splat offset=16 (local.get $a)))
        (local.set $c20 (f64x2.add (local.get $c20) (f64x2.mul (local.get $x) (local.get $b0))))
        (local.set $c21 (f64x2.add (local.get $c21) (f64x2.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load64_splat offset=24 (local.get $a)))
        (local.set $c30 (f64x2.add (local.get $c30) (f64x2.mul (local.get $x) (local.get $b0))))
        (local.set $c31 (f64x2.add (local.get $c31) (f64x2.mul (local.get $x) (local.get $b1))))
        (br_if $done (i32.eq (local.tee $a (i32.add (local.get $a) (i32.const 32))) (local.get $aEnd)))
        ;; step 7 of 8
        (local.set $b0 (v128.load offset=192 (local.get $b)))
        (local.set $b1 (v128.load offset=208 (local.get $b)))
        (local.set $x (v128.load64_splat (local.get $a)))
        (local.set $c00 (f64x2.add (local.get $c00) (f64x2.mul (local.get $x) (local.get $b0))))
        (local.set $c01 (f64x2.add (local.get $c01) (f64x2.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load64_splat offset=8 (local.get $a)))
        (local.set $c10 (f64x2.add (local.get $c10) (f64x2.mul (local.get $x) (local.get $b0))))
        (local.set $c11 (f64x2.add (local.get $c11) (f64x2.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load64_splat offset=16 (local.get $a)))
        (local.set $c20 (f64x2.add (local.get $c20) (f64x2.mul (local.get $x) (local.get $b0))))
        (local.set $c21 (f64x2.add (local.get $c21) (f64x2.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load64_splat offset=24 (local.get $a)))
        (local.set $c30 (f64x2.add (local.get $c30) (f64x2.mul (local.get $x) (local.get $b0))))
        (local.set $c31 (f64x2.add (local.get $c31) (f64x2.mul (local.get $x) (local.get $b1))))
        (br_if $done (i32.eq (local.tee $a (i32.add (local.get $a) (i32.const 32))) (local.get $aEnd)))
        ;; step 8 of 8
        (local.set $b0 (v128.load offset=224 (local.get $b)))
        (local.set $b1 (v128.load offset=240 (local.get $b)))
        (local.set $x (v128.load64_splat (local.get $a)))
        (local.set $c00 (f64x2.add (local.get $c00) (f64x2.mul (local.get $x) (local.get $b0))))
        (local.set $c01 (f64x2.add (local.get $c01) (f64x2.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load64_splat offset=8 (local.get $a)))
        (local.set $c10 (f64x2.add (local.get $c10) (f64x2.mul (local.get $x) (local.get $b0))))
        (local.set $c11 (f64x2.add (local.get $c11) (f64x2.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load64_splat offset=16 (local.get $a)))
        (local.set $c20 (f64x2.add (local.get $c20) (f64x2.mul (local.get $x) (local.get $b0))))
        (local.set $c21 (f64x2.add (local.get $c21) (f64x2.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load64_splat offset=24 (local.get $a)))
        (local.set $c30 (f64x2.add (local.get $c30) (f64x2.mul (local.get $x) (local.get $b0))))
        (local.set $c31 (f64x2.add (local.get $c31) (f64x2.mul (local.get $x) (local.get $b1))))
        (local.set $b (i32.add (local.get $b) (i32.const 256)))
        (br_if $steps (i32.ne (local.tee $a (i32.add (local.get $a) (i32.const 32))) (local.get $aEnd)))))
    (v128.store (local.get $c) (local.get $c00))
    (v128.store offset=16 (local.get $c) (local.get $c01))
    (v128.store (local.get $c1) (local.get $c10))
    (v128.store offset=16 (local.get $c1) (local.get $c11))
    (v128.store (local.get $c2) (local.get $c20))
    (v128.store offset=16 (local.get $c2) (local.get $c21))
    (v128.store (local.get $c3) (local.get $c30))
    (v128.store offset=16 (local.get $c3) (local.get $c31)))

  ;; ---------------------------------------------------------------------------------------------
  ;; Macro-kernels: C[mc×nc] (row stride $ldc) (+)= packed A block · packed B slab, both of depth
  ;; kc ≥ 1. A full tile is computed in place. An edge tile (fewer than MR rows or NR columns
  ;; left) is computed in the MR×NR scratch tile at $scratch: its valid part of C is copied in
  ;; (when accumulating), updated there like a full tile, and copied back. So every entry of C,
  ;; edge or not, receives its products one by one in the order p = 0, 1, …, k − 1.
  ;; ---------------------------------------------------------------------------------------------

  ;; rows × bytes (a multiple of 4) from src to dst, row strides in bytes
  (func $copyTile (param $src i32) (param $srcStride i32) (param $dst i32) (param $dstStride i32)
    (param $rows i32) (param $bytes i32)
    (local $q i32)
    (loop $rows
      (local.set $q (i32.const 0))
      (loop $words
        (i32.store (i32.add (local.get $dst) (local.get $q)) (i32.load (i32.add (local.get $src) (local.get $q))))
        (br_if $words (i32.lt_u (local.tee $q (i32.add (local.get $q) (i32.const 4))) (local.get $bytes))))
      (local.set $src (i32.add (local.get $src) (local.get $srcStride)))
      (local.set $dst (i32.add (local.get $dst) (local.get $dstStride)))
      (br_if $rows (local.tee $rows (i32.sub (local.get $rows) (i32.const 1))))))

  (func $macro_f32
    (param $mc i32) (param $nc i32) (param $kc i32) (param $ap i32) (param $bp i32)
    (param $c i32) (param $ldc i32) (param $accumulate i32) (param $scratch i32)
    (local $i i32) (local $j i32) (local $mr i32) (local $nr i32) (local $aPanel i32) (local $bPanel i32)
    (local $ct i32) (local $ldcBytes i32)
    (local.set $ldcBytes (i32.shl (local.get $ldc) (i32.const 2)))
    (loop $cols
      ;; the B panel of columns j..j+7 starts j·kc floats into the slab
      (local.set $bPanel (i32.add (local.get $bp) (i32.shl (i32.mul (local.get $j) (local.get $kc)) (i32.const 2))))
      (local.set $nr (select (i32.const 8) (i32.sub (local.get $nc) (local.get $j))
        (i32.ge_u (i32.sub (local.get $nc) (local.get $j)) (i32.const 8))))
      (local.set $i (i32.const 0))
      (loop $rows
        ;; the A panel of rows i..i+3 starts i·kc floats into the block
        (local.set $aPanel (i32.add (local.get $ap) (i32.shl (i32.mul (local.get $i) (local.get $kc)) (i32.const 2))))
        (local.set $mr (select (i32.const 4) (i32.sub (local.get $mc) (local.get $i))
          (i32.ge_u (i32.sub (local.get $mc) (local.get $i)) (i32.const 4))))
        (local.set $ct (i32.add (local.get $c)
          (i32.shl (i32.add (i32.mul (local.get $i) (local.get $ldc)) (local.get $j)) (i32.const 2))))
        (if (i32.and (i32.eq (local.get $mr) (i32.const 4)) (i32.eq (local.get $nr) (i32.const 8)))
          (then
            (call $kernel_f32 (local.get $kc) (local.get $aPanel) (local.get $bPanel) (local.get $ct) (local.get $ldc)
              (local.get $accumulate)))
          (else
            (if (local.get $accumulate)
              (then
                (call $copyTile (local.get $ct) (local.get $ldcBytes) (local.get $scratch) (i32.const 32)
                  (local.get $mr) (i32.shl (local.get $nr) (i32.const 2)))))
            (call $kernel_f32 (local.get $kc) (local.get $aPanel) (local.get $bPanel) (local.get $scratch) (i32.const 8)
              (local.get $accumulate))
            (call $copyTile (local.get $scratch) (i32.const 32) (local.get $ct) (local.get $ldcBytes)
              (local.get $mr) (i32.shl (local.get $nr) (i32.const 2)))))
        (br_if $rows (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 4))) (local.get $mc))))
      (br_if $cols (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 8))) (local.get $nc)))))

  (func $macro_f64
    (param $mc i32) (param $nc i32) (param $kc i32) (param $ap i32) (param $bp i32)
    (param $c i32) (param $ldc i32) (param $accumulate i32) (param $scratch i32)
    (local $i i32) (local $j i32) (local $mr i32) (local $nr i32) (local $aPanel i32) (local $bPanel i32)
    (local $ct i32) (local $ldcBytes i32)
    (local.set $ldcBytes (i32.shl (local.get $ldc) (i32.const 3)))
    (loop $cols
      ;; the B panel of columns j..j+3 starts j·kc doubles into the slab
      (local.set $bPanel (i32.add (local.get $bp) (i32.shl (i32.mul (local.get $j) (local.get $kc)) (i32.const 3))))
      (local.set $nr (select (i32.const 4) (i32.sub (local.get $nc) (local.get $j))
        (i32.ge_u (i32.sub (local.get $nc) (local.get $j)) (i32.const 4))))
      (local.set $i (i32.const 0))
      (loop $rows
        ;; the A panel of rows i..i+3 starts i·kc doubles into the block
        (local.set $aPanel (i32.add (local.get $ap) (i32.shl (i32.mul (local.get $i) (local.get $kc)) (i32.const 3))))
        (local.set $mr (select (i32.const 4) (i32.sub (local.get $mc) (local.get $i))
          (i32.ge_u (i32.sub (local.get $mc) (local.get $i)) (i32.const 4))))
        (local.set $ct (i32.add (local.get $c)
          (i32.shl (i32.add (i32.mul (local.get $i) (local.get $ldc)) (local.get $j)) (i32.const 3))))
        (if (i32.and (i32.eq (local.get $mr) (i32.const 4)) (i32.eq (local.get $nr) (i32.const 4)))
          (then
            (call $kernel_f64 (local.get $kc) (local.get $aPanel) (local.get $bPanel) (local.get $ct) (local.get $ldc)
              (local.get $accumulate)))
          (else
            (if (local.get $accumulate)
              (then
                (call $copyTile (local.get $ct) (local.get $ldcBytes) (local.get $scratch) (i32.const 32)
                  (local.get $mr) (i32.shl (local.get $nr) (i32.const 3)))))
            (call $kernel_f64 (local.get $kc) (local.get $aPanel) (local.get $bPanel) (local.get $scratch) (i32.const 4)
              (local.get $accumulate))
            (call $copyTile (local.get $scratch) (i32.const 32) (local.get $ct) (local.get $ldcBytes)
              (local.get $mr) (i32.shl (local.get $nr) (i32.const 3)))))
        (br_if $rows (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 4))) (local.get $mc))))
      (br_if $cols (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 4))) (local.get $nc)))))

  ;; ---------------------------------------------------------------------------------------------
  ;; The loop nest around the macro-kernels, for the part C[m0:m1, n0:n1] of the product: slabs of
  ;; NC columns; in each, steps of KC along k, packing B's kc×nc slab once per step; in each step,
  ;; blocks of MC rows, packing A's mc×kc block, then the macro-kernel. op(A)(i, p) is at
  ;; a + (i·ars + p·acs)·size and op(B)(p, j) at b + (j·brs + p·bcs)·size; C has row stride ldc.
  ;; ap, bp and scratch are the caller's own packing buffers and edge tile, so threads sharing the
  ;; memory can each compute a part. Needs m0 < m1 and k ≥ 1.
  ;; ---------------------------------------------------------------------------------------------

  (func $min (param $x i32) (param $y i32) (result i32)
    (select (local.get $x) (local.get $y) (i32.lt_u (local.get $x) (local.get $y))))

  ;; the byte address of element (r, p) of a matrix at base with strides rs, cs: base + (r·rs + p·cs)·size
  (func $at (param $base i32) (param $r i32) (param $rs i32) (param $p i32) (param $cs i32) (param $shift i32)
    (result i32)
    (i32.add (local.get $base)
      (i32.shl (i32.add (i32.mul (local.get $r) (local.get $rs)) (i32.mul (local.get $p) (local.get $cs)))
        (local.get $shift))))

  (func (export "gemm_f32")
    (param $m0 i32) (param $m1 i32) (param $n0 i32) (param $n1 i32) (param $k i32)
    (param $a i32) (param $ars i32) (param $acs i32) (param $b i32) (param $brs i32) (param $bcs i32)
    (param $c i32) (param $ldc i32) (param $ap i32) (param $bp i32) (param $scratch i32)
    (param $KC i32) (param $MC i32) (param $NC i32)
    (local $jc i32) (local $nc i32) (local $pc i32) (local $kc i32) (local $ic i32) (local $mc i32)
    (local.set $jc (local.get $n0))
    (block $done
      (loop $slabs
        (br_if $done (i32.ge_u (local.get $jc) (local.get $n1)))
        (local.set $nc (call $min (local.get $NC) (i32.sub (local.get $n1) (local.get $jc))))
        (local.set $pc (i32.const 0))
        (loop $steps
          (local.set $kc (call $min (local.get $KC) (i32.sub (local.get $k) (local.get $pc))))
          (call $pack_f32 (call $at (local.get $b) (local.get $jc) (local.get $brs) (local.get $pc) (local.get $bcs) (i32.const 2))
            (local.get $brs) (local.get $bcs) (local.get $nc) (local.get $kc) (i32.const 8) (local.get $bp))
          (local.set $ic (local.get $m0))
          (loop $blocks
            (local.set $mc (call $min (local.get $MC) (i32.sub (local.get $m1) (local.get $ic))))
            (call $pack_f32 (call $at (local.get $a) (local.get $ic) (local.get $ars) (local.get $pc) (local.get $acs) (i32.const 2))
              (local.get $ars) (local.get $acs) (local.get $mc) (local.get $kc) (i32.const 4) (local.get $ap))
            ;; the first step of k sets C, later ones add to it
            (call $macro_f32 (local.get $mc) (local.get $nc) (local.get $kc) (local.get $ap) (local.get $bp)
              (call $at (local.get $c) (local.get $ic) (local.get $ldc) (local.get $jc) (i32.const 1) (i32.const 2))
              (local.get $ldc) (i32.ne (local.get $pc) (i32.const 0)) (local.get $scratch))
            (br_if $blocks (i32.lt_u (local.tee $ic (i32.add (local.get $ic) (local.get $MC))) (local.get $m1))))
          (br_if $steps (i32.lt_u (local.tee $pc (i32.add (local.get $pc) (local.get $KC))) (local.get $k))))
        (local.set $jc (i32.add (local.get $jc) (local.get $NC)))
        (br $slabs))))

  (func (export "gemm_f64")
    (param $m0 i32) (param $m1 i32) (param $n0 i32) (param $n1 i32) (param $k i32)
    (param $a i32) (param $ars i32) (param $acs i32) (param $b i32) (param $brs i32) (param $bcs i32)
    (param $c i32) (param $ldc i32) (param $ap i32) (param $bp i32) (param $scratch i32)
    (param $KC i32) (param $MC i32) (param $NC i32)
    (local $jc i32) (local $nc i32) (local $pc i32) (local $kc i32) (local $ic i32) (local $mc i32)
    (local.set $jc (local.get $n0))
    (block $done
      (loop $slabs
        (br_if $done (i32.ge_u (local.get $jc) (local.get $n1)))
        (local.set $nc (call $min (local.get $NC) (i32.sub (local.get $n1) (local.get $jc))))
        (local.set $pc (i32.const 0))
        (loop $steps
          (local.set $kc (call $min (local.get $KC) (i32.sub (local.get $k) (local.get $pc))))
          (call $pack_f64 (call $at (local.get $b) (local.get $jc) (local.get $brs) (local.get $pc) (local.get $bcs) (i32.const 3))
            (local.get $brs) (local.get $bcs) (local.get $nc) (local.get $kc) (i32.const 4) (local.get $bp))
          (local.set $ic (local.get $m0))
          (loop $blocks
            (local.set $mc (call $min (local.get $MC) (i32.sub (local.get $m1) (local.get $ic))))
            (call $pack_f64 (call $at (local.get $a) (local.get $ic) (local.get $ars) (local.get $pc) (local.get $acs) (i32.const 3))
              (local.get $ars) (local.get $acs) (local.get $mc) (local.get $kc) (i32.const 4) (local.get $ap))
            ;; the first step of k sets C, later ones add to it
            (call $macro_f64 (local.get $mc) (local.get $nc) (local.get $kc) (local.get $ap) (local.get $bp)
              (call $at (local.get $c) (local.get $ic) (local.get $ldc) (local.get $jc) (i32.const 1) (i32.const 3))
              (local.get $ldc) (i32.ne (local.get $pc) (i32.const 0)) (local.get $scratch))
            (br_if $blocks (i32.lt_u (local.tee $ic (i32.add (local.get $ic) (local.get $MC))) (local.get $m1))))
          (br_if $steps (i32.lt_u (local.tee $pc (i32.add (local.get $pc) (local.get $KC))) (local.get $k))))
        (local.set $jc (i32.add (local.get $jc) (local.get $NC)))
        (br $slabs))))

  ;; ---------------------------------------------------------------------------------------------
  ;; y ← y + α·x over n elements at byte offsets x and y (the optimizers' update θ ← θ − η·g is
  ;; α = −η): four f32 or two f64 lanes at a time, then the last few one by one. The product is
  ;; rounded, then the sum, as in matmul.ts's plain-loop twin, so both give the same bits.
  ;; ---------------------------------------------------------------------------------------------

  (func (export "axpy_f32") (param $x i32) (param $y i32) (param $n i32) (param $alpha f32)
    (local $a v128) (local $end i32) (local $off i32) (local $bytes i32)
    (local.set $a (f32x4.splat (local.get $alpha)))
    (local.set $bytes (i32.shl (local.get $n) (i32.const 2)))
    (local.set $end (i32.and (local.get $bytes) (i32.const -16)))
    (block $tail
      (loop $vec
        (br_if $tail (i32.ge_u (local.get $off) (local.get $end)))
        (v128.store (i32.add (local.get $y) (local.get $off))
          (f32x4.add (v128.load (i32.add (local.get $y) (local.get $off)))
            (f32x4.mul (local.get $a) (v128.load (i32.add (local.get $x) (local.get $off))))))
        (local.set $off (i32.add (local.get $off) (i32.const 16)))
        (br $vec)))
    (block $done
      (loop $one
        (br_if $done (i32.ge_u (local.get $off) (local.get $bytes)))
        (f32.store (i32.add (local.get $y) (local.get $off))
          (f32.add (f32.load (i32.add (local.get $y) (local.get $off)))
            (f32.mul (local.get $alpha) (f32.load (i32.add (local.get $x) (local.get $off))))))
        (local.set $off (i32.add (local.get $off) (i32.const 4)))
        (br $one))))

  (func (export "axpy_f64") (param $x i32) (param $y i32) (param $n i32) (param $alpha f64)
    (local $a v128) (local $end i32) (local $off i32) (local $bytes i32)
    (local.set $a (f64x2.splat (local.get $alpha)))
    (local.set $bytes (i32.shl (local.get $n) (i32.const 3)))
    (local.set $end (i32.and (local.get $bytes) (i32.const -16)))
    (block $tail
      (loop $vec
        (br_if $tail (i32.ge_u (local.get $off) (local.get $end)))
        (v128.store (i32.add (local.get $y) (local.get $off))
          (f64x2.add (v128.load (i32.add (local.get $y) (local.get $off)))
            (f64x2.mul (local.get $a) (v128.load (i32.add (local.get $x) (local.get $off))))))
        (local.set $off (i32.add (local.get $off) (i32.const 16)))
        (br $vec)))
    (block $done
      (loop $one
        (br_if $done (i32.ge_u (local.get $off) (local.get $bytes)))
        (f64.store (i32.add (local.get $y) (local.get $off))
          (f64.add (f64.load (i32.add (local.get $y) (local.get $off)))
            (f64.mul (local.get $alpha) (f64.load (i32.add (local.get $x) (local.get $off))))))
        (local.set $off (i32.add (local.get $off) (i32.const 8)))
        (br $one))))

  ;; ---------------------------------------------------------------------------------------------
  ;; ReLU over n elements at byte offsets, as rules.ts defines it: y = x > 0 ? x : 0 except that
  ;; NaN stays NaN, and its backward step out = x ≤ 0 ? 0 : g (g passes at NaN, as in PyTorch).
  ;; pmax(0, x) is 0 < x ? x : 0, which gives +0 for −0 and for NaN; the lanes where x ≠ x (NaN)
  ;; then take x itself. The backward step and-s g with the complement of the mask of x ≤ 0 (+0
  ;; where x ≤ 0). Four f32 or two f64 lanes at a time, then the last few one by one. y may be
  ;; x, and out may be g.
  ;; ---------------------------------------------------------------------------------------------

  (func (export "relu_f32") (param $x i32) (param $y i32) (param $n i32)
    (local $end i32) (local $off i32) (local $bytes i32) (local $v f32) (local $lanes v128)
    (local.set $bytes (i32.shl (local.get $n) (i32.const 2)))
    (local.set $end (i32.and (local.get $bytes) (i32.const -16)))
    (block $tail
      (loop $vec
        (br_if $tail (i32.ge_u (local.get $off) (local.get $end)))
        (local.set $lanes (v128.load (i32.add (local.get $x) (local.get $off))))
        (v128.store (i32.add (local.get $y) (local.get $off))
          (v128.bitselect (local.get $lanes) (f32x4.pmax (v128.const f32x4 0 0 0 0) (local.get $lanes))
            (f32x4.ne (local.get $lanes) (local.get $lanes))))
        (local.set $off (i32.add (local.get $off) (i32.const 16)))
        (br $vec)))
    (block $done
      (loop $one
        (br_if $done (i32.ge_u (local.get $off) (local.get $bytes)))
        (local.set $v (f32.load (i32.add (local.get $x) (local.get $off))))
        (f32.store (i32.add (local.get $y) (local.get $off))
          (select (f32.const 0) (local.get $v) (f32.le (local.get $v) (f32.const 0))))
        (local.set $off (i32.add (local.get $off) (i32.const 4)))
        (br $one))))

  (func (export "relu_grad_f32") (param $x i32) (param $g i32) (param $out i32) (param $n i32)
    (local $end i32) (local $off i32) (local $bytes i32)
    (local.set $bytes (i32.shl (local.get $n) (i32.const 2)))
    (local.set $end (i32.and (local.get $bytes) (i32.const -16)))
    (block $tail
      (loop $vec
        (br_if $tail (i32.ge_u (local.get $off) (local.get $end)))
        (v128.store (i32.add (local.get $out) (local.get $off))
          (v128.andnot (v128.load (i32.add (local.get $g) (local.get $off)))
            (f32x4.le (v128.load (i32.add (local.get $x) (local.get $off))) (v128.const f32x4 0 0 0 0))))
        (local.set $off (i32.add (local.get $off) (i32.const 16)))
        (br $vec)))
    (block $done
      (loop $one
        (br_if $done (i32.ge_u (local.get $off) (local.get $bytes)))
        (f32.store (i32.add (local.get $out) (local.get $off))
          (select (f32.const 0) (f32.load (i32.add (local.get $g) (local.get $off)))
            (f32.le (f32.load (i32.add (local.get $x) (local.get $off))) (f32.const 0))))
        (local.set $off (i32.add (local.get $off) (i32.const 4)))
        (br $one))))

  (func (export "relu_f64") (param $x i32) (param $y i32) (param $n i32)
    (local $end i32) (local $off i32) (local $bytes i32) (local $v f64) (local $lanes v128)
    (local.set $bytes (i32.shl (local.get $n) (i32.const 3)))
    (local.set $end (i32.and (local.get $bytes) (i32.const -16)))
    (block $tail
      (loop $vec
        (br_if $tail (i32.ge_u (local.get $off) (local.get $end)))
        (local.set $lanes (v128.load (i32.add (local.get $x) (local.get $off))))
        (v128.store (i32.add (local.get $y) (local.get $off))
          (v128.bitselect (local.get $lanes) (f64x2.pmax (v128.const f64x2 0 0) (local.get $lanes))
            (f64x2.ne (local.get $lanes) (local.get $lanes))))
        (local.set $off (i32.add (local.get $off) (i32.const 16)))
        (br $vec)))
    (block $done
      (loop $one
        (br_if $done (i32.ge_u (local.get $off) (local.get $bytes)))
        (local.set $v (f64.load (i32.add (local.get $x) (local.get $off))))
        (f64.store (i32.add (local.get $y) (local.get $off))
          (select (f64.const 0) (local.get $v) (f64.le (local.get $v) (f64.const 0))))
        (local.set $off (i32.add (local.get $off) (i32.const 8)))
        (br $one))))

  (func (export "relu_grad_f64") (param $x i32) (param $g i32) (param $out i32) (param $n i32)
    (local $end i32) (local $off i32) (local $bytes i32)
    (local.set $bytes (i32.shl (local.get $n) (i32.const 3)))
    (local.set $end (i32.and (local.get $bytes) (i32.const -16)))
    (block $tail
      (loop $vec
        (br_if $tail (i32.ge_u (local.get $off) (local.get $end)))
        (v128.store (i32.add (local.get $out) (local.get $off))
          (v128.andnot (v128.load (i32.add (local.get $g) (local.get $off)))
            (f64x2.le (v128.load (i32.add (local.get $x) (local.get $off))) (v128.const f64x2 0 0))))
        (local.set $off (i32.add (local.get $off) (i32.const 16)))
        (br $vec)))
    (block $done
      (loop $one
        (br_if $done (i32.ge_u (local.get $off) (local.get $bytes)))
        (f64.store (i32.add (local.get $out) (local.get $off))
          (select (f64.const 0) (f64.load (i32.add (local.get $g) (local.get $off)))
            (f64.le (f64.load (i32.add (local.get $x) (local.get $off))) (f64.const 0))))
        (local.set $off (i32.add (local.get $off) (i32.const 8)))
        (br $one))))

  ;; ---------------------------------------------------------------------------------------------
  ;; out = a ∘ b over n elements at byte offsets, for ∘ = add, sub, mul, div (op 0…3): the
  ;; binary ops of rules.ts on equal-length operands, or with b one number broadcast. bstep is the
  ;; bytes b advances per element: the element size, or 0 for a number, which the caller then
  ;; writes 16 bytes wide (4 f32 or 2 f64 copies) so that a vector load is its splat. Each lane is
  ;; IEEE-rounded in the dtype, as the JavaScript loop's float64 result rounded to float32 is (for
  ;; these four ops, rounding twice gives the correctly rounded float32). out may be a or b.
  ;; ---------------------------------------------------------------------------------------------

  (func (export "binary_f32") (param $op i32) (param $a i32) (param $b i32) (param $out i32) (param $n i32)
    (param $bstep i32)
    (local $end i32) (local $off i32) (local $boff i32) (local $bytes i32)
    (local $x v128) (local $y v128) (local $r v128) (local $u f32) (local $w f32) (local $s f32)
    (local.set $bytes (i32.shl (local.get $n) (i32.const 2)))
    (local.set $end (i32.and (local.get $bytes) (i32.const -16)))
    (block $tail
      (loop $vec
        (br_if $tail (i32.ge_u (local.get $off) (local.get $end)))
        (local.set $x (v128.load (i32.add (local.get $a) (local.get $off))))
        (local.set $y (v128.load (i32.add (local.get $b) (local.get $boff))))
        (block $op
          (block $div
            (block $mul
              (block $sub
                (block $add (br_table $add $sub $mul $div (local.get $op)))
                (local.set $r (f32x4.add (local.get $x) (local.get $y))) (br $op))
              (local.set $r (f32x4.sub (local.get $x) (local.get $y))) (br $op))
            (local.set $r (f32x4.mul (local.get $x) (local.get $y))) (br $op))
          (local.set $r (f32x4.div (local.get $x) (local.get $y))))
        (v128.store (i32.add (local.get $out) (local.get $off)) (local.get $r))
        (local.set $off (i32.add (local.get $off) (i32.const 16)))
        (local.set $boff (i32.add (local.get $boff) (i32.shl (local.get $bstep) (i32.const 2))))
        (br $vec)))
    (block $done
      (loop $one
        (br_if $done (i32.ge_u (local.get $off) (local.get $bytes)))
        (local.set $u (f32.load (i32.add (local.get $a) (local.get $off))))
        (local.set $w (f32.load (i32.add (local.get $b) (local.get $boff))))
        (block $op
          (block $div
            (block $mul
              (block $sub
                (block $add (br_table $add $sub $mul $div (local.get $op)))
                (local.set $s (f32.add (local.get $u) (local.get $w))) (br $op))
              (local.set $s (f32.sub (local.get $u) (local.get $w))) (br $op))
            (local.set $s (f32.mul (local.get $u) (local.get $w))) (br $op))
          (local.set $s (f32.div (local.get $u) (local.get $w))))
        (f32.store (i32.add (local.get $out) (local.get $off)) (local.get $s))
        (local.set $off (i32.add (local.get $off) (i32.const 4)))
        (local.set $boff (i32.add (local.get $boff) (local.get $bstep)))
        (br $one))))

  (func (export "binary_f64") (param $op i32) (param $a i32) (param $b i32) (param $out i32) (param $n i32)
    (param $bstep i32)
    (local $end i32) (local $off i32) (local $boff i32) (local $bytes i32)
    (local $x v128) (local $y v128) (local $r v128) (local $u f64) (local $w f64) (local $s f64)
    (local.set $bytes (i32.shl (local.get $n) (i32.const 3)))
    (local.set $end (i32.and (local.get $bytes) (i32.const -16)))
    (block $tail
      (loop $vec
        (br_if $tail (i32.ge_u (local.get $off) (local.get $end)))
        (local.set $x (v128.load (i32.add (local.get $a) (local.get $off))))
        (local.set $y (v128.load (i32.add (local.get $b) (local.get $boff))))
        (block $op
          (block $div
            (block $mul
              (block $sub
                (block $add (br_table $add $sub $mul $div (local.get $op)))
                (local.set $r (f64x2.add (local.get $x) (local.get $y))) (br $op))
              (local.set $r (f64x2.sub (local.get $x) (local.get $y))) (br $op))
            (local.set $r (f64x2.mul (local.get $x) (local.get $y))) (br $op))
          (local.set $r (f64x2.div (local.get $x) (local.get $y))))
        (v128.store (i32.add (local.get $out) (local.get $off)) (local.get $r))
        (local.set $off (i32.add (local.get $off) (i32.const 16)))
        (local.set $boff (i32.add (local.get $boff) (i32.shl (local.get $bstep) (i32.const 1))))
        (br $vec)))
    (block $done
      (loop $one
        (br_if $done (i32.ge_u (local.get $off) (local.get $bytes)))
        (local.set $u (f64.load (i32.add (local.get $a) (local.get $off))))
        (local.set $w (f64.load (i32.add (local.get $b) (local.get $boff))))
        (block $op
          (block $div
            (block $mul
              (block $sub
                (block $add (br_table $add $sub $mul $div (local.get $op)))
                (local.set $s (f64.add (local.get $u) (local.get $w))) (br $op))
              (local.set $s (f64.sub (local.get $u) (local.get $w))) (br $op))
            (local.set $s (f64.mul (local.get $u) (local.get $w))) (br $op))
          (local.set $s (f64.div (local.get $u) (local.get $w))))
        (f64.store (i32.add (local.get $out) (local.get $off)) (local.get $s))
        (local.set $off (i32.add (local.get $off) (i32.const 8)))
        (local.set $boff (i32.add (local.get $boff) (local.get $bstep)))
        (br $one)))))
