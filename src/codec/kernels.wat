;; Decoding kernels, WebAssembly with 128-bit SIMD (docs/store-format.md, "Reading").
;; Compiled to kernels.wasm at build (scripts/build-kernels.mjs); kernels.ts loads it and owns the
;; memory layout. Every pointer is a byte offset in this module's memory; none needs alignment.
;; The JavaScript loops in planes.ts and transforms.ts are the reference: test/kernels.test.ts checks
;; these against them, byte for byte.
(module
  (memory (export "memory") 1)

  ;; Byte planes -> elements, 4-byte elements: plane k at $src + k * $stride; $g groups of 16 elements
  ;; (16 bytes of each plane, 64 bytes out). Two rounds of byte interleaving: a0 b0 a1 b1 ..., then
  ;; pairs of bytes: a0 b0 c0 d0 a1 b1 c1 d1 ...
  (func (export "join4") (param $src i32) (param $stride i32) (param $g i32) (param $dst i32)
    (local $p1 i32) (local $p2 i32) (local $p3 i32) (local $end i32)
    (local $ablo v128) (local $abhi v128) (local $cdlo v128) (local $cdhi v128)
    (local.set $p1 (i32.add (local.get $src) (local.get $stride)))
    (local.set $p2 (i32.add (local.get $p1) (local.get $stride)))
    (local.set $p3 (i32.add (local.get $p2) (local.get $stride)))
    (local.set $end (i32.add (local.get $src) (i32.shl (local.get $g) (i32.const 4))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
        (local.set $ablo (i8x16.shuffle 0 16 1 17 2 18 3 19 4 20 5 21 6 22 7 23 (v128.load (local.get $src)) (v128.load (local.get $p1))))
        (local.set $abhi (i8x16.shuffle 8 24 9 25 10 26 11 27 12 28 13 29 14 30 15 31 (v128.load (local.get $src)) (v128.load (local.get $p1))))
        (local.set $cdlo (i8x16.shuffle 0 16 1 17 2 18 3 19 4 20 5 21 6 22 7 23 (v128.load (local.get $p2)) (v128.load (local.get $p3))))
        (local.set $cdhi (i8x16.shuffle 8 24 9 25 10 26 11 27 12 28 13 29 14 30 15 31 (v128.load (local.get $p2)) (v128.load (local.get $p3))))
        (v128.store offset=0 (local.get $dst) (i8x16.shuffle 0 1 16 17 2 3 18 19 4 5 20 21 6 7 22 23 (local.get $ablo) (local.get $cdlo)))
        (v128.store offset=16 (local.get $dst) (i8x16.shuffle 8 9 24 25 10 11 26 27 12 13 28 29 14 15 30 31 (local.get $ablo) (local.get $cdlo)))
        (v128.store offset=32 (local.get $dst) (i8x16.shuffle 0 1 16 17 2 3 18 19 4 5 20 21 6 7 22 23 (local.get $abhi) (local.get $cdhi)))
        (v128.store offset=48 (local.get $dst) (i8x16.shuffle 8 9 24 25 10 11 26 27 12 13 28 29 14 15 30 31 (local.get $abhi) (local.get $cdhi)))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (local.set $p1 (i32.add (local.get $p1) (i32.const 16)))
        (local.set $p2 (i32.add (local.get $p2) (i32.const 16)))
        (local.set $p3 (i32.add (local.get $p3) (i32.const 16)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 64)))
        (br $next))))

  ;; join4, each output byte XORed with the byte at the same place from $x (a delta's base). $dst may
  ;; be $x: every 16 bytes are read before they are written.
  (func (export "join4x") (param $src i32) (param $stride i32) (param $g i32) (param $dst i32) (param $x i32)
    (local $p1 i32) (local $p2 i32) (local $p3 i32) (local $end i32)
    (local $ablo v128) (local $abhi v128) (local $cdlo v128) (local $cdhi v128)
    (local.set $p1 (i32.add (local.get $src) (local.get $stride)))
    (local.set $p2 (i32.add (local.get $p1) (local.get $stride)))
    (local.set $p3 (i32.add (local.get $p2) (local.get $stride)))
    (local.set $end (i32.add (local.get $src) (i32.shl (local.get $g) (i32.const 4))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
        (local.set $ablo (i8x16.shuffle 0 16 1 17 2 18 3 19 4 20 5 21 6 22 7 23 (v128.load (local.get $src)) (v128.load (local.get $p1))))
        (local.set $abhi (i8x16.shuffle 8 24 9 25 10 26 11 27 12 28 13 29 14 30 15 31 (v128.load (local.get $src)) (v128.load (local.get $p1))))
        (local.set $cdlo (i8x16.shuffle 0 16 1 17 2 18 3 19 4 20 5 21 6 22 7 23 (v128.load (local.get $p2)) (v128.load (local.get $p3))))
        (local.set $cdhi (i8x16.shuffle 8 24 9 25 10 26 11 27 12 28 13 29 14 30 15 31 (v128.load (local.get $p2)) (v128.load (local.get $p3))))
        (v128.store offset=0 (local.get $dst) (v128.xor (v128.load offset=0 (local.get $x))
          (i8x16.shuffle 0 1 16 17 2 3 18 19 4 5 20 21 6 7 22 23 (local.get $ablo) (local.get $cdlo))))
        (v128.store offset=16 (local.get $dst) (v128.xor (v128.load offset=16 (local.get $x))
          (i8x16.shuffle 8 9 24 25 10 11 26 27 12 13 28 29 14 15 30 31 (local.get $ablo) (local.get $cdlo))))
        (v128.store offset=32 (local.get $dst) (v128.xor (v128.load offset=32 (local.get $x))
          (i8x16.shuffle 0 1 16 17 2 3 18 19 4 5 20 21 6 7 22 23 (local.get $abhi) (local.get $cdhi))))
        (v128.store offset=48 (local.get $dst) (v128.xor (v128.load offset=48 (local.get $x))
          (i8x16.shuffle 8 9 24 25 10 11 26 27 12 13 28 29 14 15 30 31 (local.get $abhi) (local.get $cdhi))))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (local.set $p1 (i32.add (local.get $p1) (i32.const 16)))
        (local.set $p2 (i32.add (local.get $p2) (i32.const 16)))
        (local.set $p3 (i32.add (local.get $p3) (i32.const 16)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 64)))
        (local.set $x (i32.add (local.get $x) (i32.const 64)))
        (br $next))))

  ;; Byte planes -> elements, 2-byte elements: $g groups of 16 elements (32 bytes out).
  (func (export "join2") (param $src i32) (param $stride i32) (param $g i32) (param $dst i32)
    (local $p1 i32) (local $end i32) (local $a v128) (local $b v128)
    (local.set $p1 (i32.add (local.get $src) (local.get $stride)))
    (local.set $end (i32.add (local.get $src) (i32.shl (local.get $g) (i32.const 4))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
        (local.set $a (v128.load (local.get $src)))
        (local.set $b (v128.load (local.get $p1)))
        (v128.store offset=0 (local.get $dst) (i8x16.shuffle 0 16 1 17 2 18 3 19 4 20 5 21 6 22 7 23 (local.get $a) (local.get $b)))
        (v128.store offset=16 (local.get $dst) (i8x16.shuffle 8 24 9 25 10 26 11 27 12 28 13 29 14 30 15 31 (local.get $a) (local.get $b)))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (local.set $p1 (i32.add (local.get $p1) (i32.const 16)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
        (br $next))))

  ;; join2, XORed with $x as join4x is ($dst may be $x).
  (func (export "join2x") (param $src i32) (param $stride i32) (param $g i32) (param $dst i32) (param $x i32)
    (local $p1 i32) (local $end i32) (local $a v128) (local $b v128)
    (local.set $p1 (i32.add (local.get $src) (local.get $stride)))
    (local.set $end (i32.add (local.get $src) (i32.shl (local.get $g) (i32.const 4))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
        (local.set $a (v128.load (local.get $src)))
        (local.set $b (v128.load (local.get $p1)))
        (v128.store offset=0 (local.get $dst) (v128.xor (v128.load offset=0 (local.get $x))
          (i8x16.shuffle 0 16 1 17 2 18 3 19 4 20 5 21 6 22 7 23 (local.get $a) (local.get $b))))
        (v128.store offset=16 (local.get $dst) (v128.xor (v128.load offset=16 (local.get $x))
          (i8x16.shuffle 8 24 9 25 10 26 11 27 12 28 13 29 14 30 15 31 (local.get $a) (local.get $b))))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (local.set $p1 (i32.add (local.get $p1) (i32.const 16)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
        (local.set $x (i32.add (local.get $x) (i32.const 32)))
        (br $next))))

  ;; Masked XOR, inverse (transforms.ts unmask4): class 0 takes the next residual XOR the base's element,
  ;; class 2 is -0.0, any other +0.0. Branch-free: pruned tensors mix the classes at random. Returns
  ;; how many residuals were used. $out may be $base.
  (func (export "unmask4") (param $cls i32) (param $count i32) (param $res i32) (param $base i32) (param $out i32) (result i32)
    (local $end i32) (local $c i32) (local $m i32)
    (local.set $end (i32.add (local.get $cls) (local.get $count)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $cls) (local.get $end)))
        (local.set $c (i32.load8_u (local.get $cls)))
        (i32.store (local.get $out)
          (select
            (i32.xor (i32.load (i32.add (local.get $res) (i32.shl (local.get $m) (i32.const 2)))) (i32.load (local.get $base)))
            (select (i32.const 0x80000000) (i32.const 0) (i32.eq (local.get $c) (i32.const 2)))
            (i32.eqz (local.get $c))))
        (local.set $m (i32.add (local.get $m) (i32.eqz (local.get $c))))
        (local.set $cls (i32.add (local.get $cls) (i32.const 1)))
        (local.set $base (i32.add (local.get $base) (i32.const 4)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (br $next)))
    (local.get $m))

  (func (export "unmask2") (param $cls i32) (param $count i32) (param $res i32) (param $base i32) (param $out i32) (result i32)
    (local $end i32) (local $c i32) (local $m i32)
    (local.set $end (i32.add (local.get $cls) (local.get $count)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $cls) (local.get $end)))
        (local.set $c (i32.load8_u (local.get $cls)))
        (i32.store16 (local.get $out)
          (select
            (i32.xor (i32.load16_u (i32.add (local.get $res) (i32.shl (local.get $m) (i32.const 1)))) (i32.load16_u (local.get $base)))
            (select (i32.const 0x8000) (i32.const 0) (i32.eq (local.get $c) (i32.const 2)))
            (i32.eqz (local.get $c))))
        (local.set $m (i32.add (local.get $m) (i32.eqz (local.get $c))))
        (local.set $cls (i32.add (local.get $cls) (i32.const 1)))
        (local.set $base (i32.add (local.get $base) (i32.const 2)))
        (local.set $out (i32.add (local.get $out) (i32.const 2)))
        (br $next)))
    (local.get $m))

;; int8 predicted from a float32 base (transforms.ts quantPredict): per row, s = max|w| / 127 in
  ;; float32 (1 when that is 0, infinite or NaN), q = w / s in float32, clipped to [-127, 127],
  ;; rounded half to even, NaN to 0. Writes q XOR the byte at $s when $xor is 1, else q ($out may be
  ;; $s). Float32
  ;; division here is the same as JavaScript's division of the two float32 values rounded to float32
  ;; (double rounding is exact for division). Four lanes at a time for the maximum and sixteen for the
  ;; quotients; f32x4.max propagates NaN as f32.max does, and as the reference does.
  (func (export "quant") (param $base i32) (param $count i32) (param $rows i32) (param $s i32) (param $xor i32) (param $out i32)
    (local $per i32) (local $r i32) (local $i i32) (local $end i32) (local $amax f32) (local $scale f32) (local $q i32)
    (local $vmax v128) (local $vs v128) (local $v v128) (local $p i32)
    (local.set $per (i32.div_u (local.get $count) (local.get $rows)))
    (block $rows_done
      (loop $row
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $i (i32.mul (local.get $r) (local.get $per)))
        (local.set $end (i32.add (local.get $i) (local.get $per)))
        (local.set $vmax (v128.const f32x4 0 0 0 0))
        (block $vmax_done
          (loop $vmax_loop
            (br_if $vmax_done (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $end)))
            (local.set $vmax (f32x4.max (local.get $vmax)
              (f32x4.abs (v128.load (i32.add (local.get $base) (i32.shl (local.get $i) (i32.const 2)))))))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $vmax_loop)))
        (local.set $amax (f32.max
          (f32.max (f32x4.extract_lane 0 (local.get $vmax)) (f32x4.extract_lane 1 (local.get $vmax)))
          (f32.max (f32x4.extract_lane 2 (local.get $vmax)) (f32x4.extract_lane 3 (local.get $vmax)))))
        (block $max_done
          (loop $max
            (br_if $max_done (i32.ge_u (local.get $i) (local.get $end)))
            (local.set $amax (f32.max (local.get $amax) (f32.abs (f32.load (i32.add (local.get $base) (i32.shl (local.get $i) (i32.const 2)))))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $max)))
        (local.set $scale
          (select
            (f32.div (local.get $amax) (f32.const 127))
            (f32.const 1)
            (i32.and (f32.gt (local.get $amax) (f32.const 0)) (f32.lt (local.get $amax) (f32.const inf)))))
        (local.set $vs (f32x4.splat (local.get $scale)))
        (local.set $i (i32.mul (local.get $r) (local.get $per)))
        (block $v_done
          (loop $vq
            (br_if $v_done (i32.gt_u (i32.add (local.get $i) (i32.const 16)) (local.get $end)))
            (local.set $p (i32.add (local.get $base) (i32.shl (local.get $i) (i32.const 2))))
            (local.set $v
              (i8x16.narrow_i16x8_s
                (i16x8.narrow_i32x4_s
                  (call $q4 (v128.load offset=0 (local.get $p)) (local.get $vs))
                  (call $q4 (v128.load offset=16 (local.get $p)) (local.get $vs)))
                (i16x8.narrow_i32x4_s
                  (call $q4 (v128.load offset=32 (local.get $p)) (local.get $vs))
                  (call $q4 (v128.load offset=48 (local.get $p)) (local.get $vs)))))
            (if (local.get $xor)
              (then (local.set $v (v128.xor (local.get $v) (v128.load (i32.add (local.get $s) (local.get $i)))))))
            (v128.store (i32.add (local.get $out) (local.get $i)) (local.get $v))
            (local.set $i (i32.add (local.get $i) (i32.const 16)))
            (br $vq)))
        (block $q_done
          (loop $quant
            (br_if $q_done (i32.ge_u (local.get $i) (local.get $end)))
            (local.set $q
              (i32.trunc_sat_f32_s
                (f32.nearest
                  (f32.max (f32.const -127)
                    (f32.min (f32.const 127)
                      (f32.div (f32.load (i32.add (local.get $base) (i32.shl (local.get $i) (i32.const 2)))) (local.get $scale)))))))
            (if (local.get $xor)
              (then (local.set $q (i32.xor (local.get $q) (i32.load8_u (i32.add (local.get $s) (local.get $i)))))))
            (i32.store8 (i32.add (local.get $out) (local.get $i)) (local.get $q))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $quant)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row))))

  ;; Four quotients w / s, clipped, rounded half to even, as int32 (NaN becomes 0).
  (func $q4 (param $w v128) (param $s v128) (result v128)
    (i32x4.trunc_sat_f32x4_s
      (f32x4.nearest
        (f32x4.max (v128.const f32x4 -127 -127 -127 -127)
          (f32x4.min (v128.const f32x4 127 127 127 127) (f32x4.div (local.get $w) (local.get $s)))))))

  ;; float16 or bfloat16 bits predicted from float32 bits, round to nearest even (floats.ts
  ;; f32BitsToF16Bits and f32BitsToBf16Bits, the same steps): $count elements from $base to $dst,
  ;; $kind 1 for float16, 2 for bfloat16. Eight at a time; float16 lanes that are not normal numbers
  ;; in float16 (zero, subnormal, overflow, infinity, NaN) take the scalar steps.
  (func (export "cast") (param $base i32) (param $count i32) (param $kind i32) (param $dst i32)
    (local $end i32) (local $end8 i32)
    (local.set $end (i32.add (local.get $base) (i32.shl (local.get $count) (i32.const 2))))
    (local.set $end8 (i32.add (local.get $base) (i32.shl (i32.and (local.get $count) (i32.const -8)) (i32.const 2))))
    (block $done8
      (loop $next8
        (br_if $done8 (i32.ge_u (local.get $base) (local.get $end8)))
        (v128.store (local.get $dst)
          (if (result v128) (i32.eq (local.get $kind) (i32.const 1))
            (then (i16x8.narrow_i32x4_u
              (call $f16x4 (v128.load offset=0 (local.get $base)))
              (call $f16x4 (v128.load offset=16 (local.get $base)))))
            (else (i16x8.narrow_i32x4_u
              (call $bf16x4 (v128.load offset=0 (local.get $base)))
              (call $bf16x4 (v128.load offset=16 (local.get $base)))))))
        (local.set $base (i32.add (local.get $base) (i32.const 32)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (br $next8)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $base) (local.get $end)))
        (i32.store16 (local.get $dst)
          (if (result i32) (i32.eq (local.get $kind) (i32.const 1))
            (then (call $f16 (i32.load (local.get $base))))
            (else (call $bf16 (i32.load (local.get $base))))))
        (local.set $base (i32.add (local.get $base) (i32.const 4)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 2)))
        (br $next))))

  ;; Four float16 conversions. Normal results: half = e << 10 | mant >> 13, plus one when the 13 bits
  ;; dropped are over half, or exactly half and half is odd: (rem + (half & 1) + 0xfff) >> 13.
  (func $f16x4 (param $x v128) (result v128)
    (local $e v128) (local $mant v128) (local $half v128) (local $out v128)
    (local.set $e (i32x4.sub (v128.and (i32x4.shr_u (local.get $x) (i32.const 23)) (v128.const i32x4 0xff 0xff 0xff 0xff)) (v128.const i32x4 112 112 112 112)))
    (local.set $mant (v128.and (local.get $x) (v128.const i32x4 0x7fffff 0x7fffff 0x7fffff 0x7fffff)))
    (local.set $half (v128.or (i32x4.shl (local.get $e) (i32.const 10)) (i32x4.shr_u (local.get $mant) (i32.const 13))))
    (local.set $half (i32x4.add (local.get $half)
      (i32x4.shr_u
        (i32x4.add
          (i32x4.add (v128.and (local.get $mant) (v128.const i32x4 0x1fff 0x1fff 0x1fff 0x1fff)) (v128.and (local.get $half) (v128.const i32x4 1 1 1 1)))
          (v128.const i32x4 0xfff 0xfff 0xfff 0xfff))
        (i32.const 13))))
    (local.set $out (v128.or (v128.and (i32x4.shr_u (local.get $x) (i32.const 16)) (v128.const i32x4 0x8000 0x8000 0x8000 0x8000)) (local.get $half)))
    (if (i32.eqz (i32x4.all_true (v128.and
          (i32x4.gt_s (local.get $e) (v128.const i32x4 0 0 0 0))
          (i32x4.lt_s (local.get $e) (v128.const i32x4 31 31 31 31)))))
      (then
        (local.set $out (i32x4.replace_lane 0 (local.get $out) (call $f16 (i32x4.extract_lane 0 (local.get $x)))))
        (local.set $out (i32x4.replace_lane 1 (local.get $out) (call $f16 (i32x4.extract_lane 1 (local.get $x)))))
        (local.set $out (i32x4.replace_lane 2 (local.get $out) (call $f16 (i32x4.extract_lane 2 (local.get $x)))))
        (local.set $out (i32x4.replace_lane 3 (local.get $out) (call $f16 (i32x4.extract_lane 3 (local.get $x)))))))
    (local.get $out))

  ;; Four bfloat16 conversions: the high half rounded to nearest even, NaN kept quiet.
  (func $bf16x4 (param $x v128) (result v128)
    (local $hi v128) (local $nan v128)
    (local.set $hi (i32x4.shr_u (local.get $x) (i32.const 16)))
    (local.set $nan (v128.and
      (i32x4.eq (v128.and (local.get $x) (v128.const i32x4 0x7f800000 0x7f800000 0x7f800000 0x7f800000)) (v128.const i32x4 0x7f800000 0x7f800000 0x7f800000 0x7f800000))
      (v128.not (i32x4.eq (v128.and (local.get $x) (v128.const i32x4 0x7fffff 0x7fffff 0x7fffff 0x7fffff)) (v128.const i32x4 0 0 0 0)))))
    (v128.and
      (v128.bitselect
        (v128.or (local.get $hi) (v128.const i32x4 0x40 0x40 0x40 0x40))
        (i32x4.shr_u
          (i32x4.add (i32x4.add (local.get $x) (v128.const i32x4 0x7fff 0x7fff 0x7fff 0x7fff)) (v128.and (local.get $hi) (v128.const i32x4 1 1 1 1)))
          (i32.const 16))
        (local.get $nan))
      (v128.const i32x4 0xffff 0xffff 0xffff 0xffff)))

  (func $f16 (param $x i32) (result i32)
    (local $sign i32) (local $exp i32) (local $mant i32) (local $e i32) (local $shift i32) (local $half i32) (local $rem i32) (local $halfway i32)
    (local.set $sign (i32.and (i32.shr_u (local.get $x) (i32.const 16)) (i32.const 0x8000)))
    (local.set $exp (i32.and (i32.shr_u (local.get $x) (i32.const 23)) (i32.const 0xff)))
    (local.set $mant (i32.and (local.get $x) (i32.const 0x7fffff)))
    (if (i32.eq (local.get $exp) (i32.const 0xff))
      (then (return (i32.or (i32.or (local.get $sign) (i32.const 0x7c00))
        (select (i32.or (i32.const 0x200) (i32.shr_u (local.get $mant) (i32.const 13))) (i32.const 0) (local.get $mant))))))
    (local.set $e (i32.sub (local.get $exp) (i32.const 112)))
    (if (i32.ge_s (local.get $e) (i32.const 0x1f))
      (then (return (i32.or (local.get $sign) (i32.const 0x7c00)))))
    (if (i32.le_s (local.get $e) (i32.const 0))
      (then
        (if (i32.lt_s (local.get $e) (i32.const -10)) (then (return (local.get $sign))))
        (local.set $mant (i32.or (local.get $mant) (i32.const 0x800000)))
        (local.set $shift (i32.sub (i32.const 14) (local.get $e)))
        (local.set $half (i32.shr_u (local.get $mant) (local.get $shift)))
        (local.set $rem (i32.and (local.get $mant) (i32.sub (i32.shl (i32.const 1) (local.get $shift)) (i32.const 1))))
        (local.set $halfway (i32.shl (i32.const 1) (i32.sub (local.get $shift) (i32.const 1))))
        (if (i32.or (i32.gt_u (local.get $rem) (local.get $halfway))
                    (i32.and (i32.eq (local.get $rem) (local.get $halfway)) (i32.and (local.get $half) (i32.const 1))))
          (then (local.set $half (i32.add (local.get $half) (i32.const 1)))))
        (return (i32.or (local.get $sign) (local.get $half)))))
    (local.set $half (i32.or (i32.shl (local.get $e) (i32.const 10)) (i32.shr_u (local.get $mant) (i32.const 13))))
    (local.set $rem (i32.and (local.get $mant) (i32.const 0x1fff)))
    (if (i32.or (i32.gt_u (local.get $rem) (i32.const 0x1000))
                (i32.and (i32.eq (local.get $rem) (i32.const 0x1000)) (i32.and (local.get $half) (i32.const 1))))
      (then (local.set $half (i32.add (local.get $half) (i32.const 1)))))
    (i32.or (local.get $sign) (local.get $half)))

  (func $bf16 (param $x i32) (result i32)
    (if (i32.and (i32.eq (i32.and (local.get $x) (i32.const 0x7f800000)) (i32.const 0x7f800000)) (i32.ne (i32.and (local.get $x) (i32.const 0x7fffff)) (i32.const 0)))
      (then (return (i32.and (i32.or (i32.shr_u (local.get $x) (i32.const 16)) (i32.const 0x40)) (i32.const 0xffff)))))
    (i32.and
      (i32.shr_u (i32.add (i32.add (local.get $x) (i32.const 0x7fff)) (i32.and (i32.shr_u (local.get $x) (i32.const 16)) (i32.const 1))) (i32.const 16))
      (i32.const 0xffff)))
)
