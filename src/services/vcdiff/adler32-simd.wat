;; Adler-32 with WebAssembly SIMD (the source of adler32-wasm.ts's bytes; test/services/vcdiff/adler32-wasm.test.ts
;; compiles it with wabt and compares). `update(adler, len)` adds the first `len` bytes of memory (len <= 65536) to
;; a running Adler-32 and returns it.
;;
;; Per 16-byte block x_0..x_15 with sums (a, b) on entry: b += 16a + sum((16 - i) x_i), a += sum(x_i). Over a run of
;; k blocks, with s_j the sum of block j: b += 16ka + 16 sum_j (s_0 + ... + s_(j-1)) + sum_j (weighted sum of block j).
;; Four i32 lanes carry the block sums (vs1), their running prefix (vps) and the weighted sums (vs2); a run of at
;; most 256 blocks keeps every lane below 2^26, and the run's totals are reduced mod 65521 in i64.
(module
  (memory (export "memory") 1)
  (func $hsum (param $v v128) (result i64)
    (i64.add
      (i64.add (i64.extend_i32_u (i32x4.extract_lane 0 (local.get $v)))
               (i64.extend_i32_u (i32x4.extract_lane 1 (local.get $v))))
      (i64.add (i64.extend_i32_u (i32x4.extract_lane 2 (local.get $v)))
               (i64.extend_i32_u (i32x4.extract_lane 3 (local.get $v))))))
  (func (export "update") (param $adler i32) (param $len i32) (result i32)
    (local $a i64) (local $b i64) (local $p i32) (local $end16 i32) (local $runEnd i32)
    (local $v v128) (local $vs1 v128) (local $vps v128) (local $vs2 v128) (local $w v128)
    (local.set $a (i64.extend_i32_u (i32.and (local.get $adler) (i32.const 0xffff))))
    (local.set $b (i64.extend_i32_u (i32.shr_u (local.get $adler) (i32.const 16))))
    (local.set $w (v128.const i8x16 16 15 14 13 12 11 10 9 8 7 6 5 4 3 2 1))
    (local.set $end16 (i32.and (local.get $len) (i32.const -16)))
    (block $runsDone
      (loop $runs
        (br_if $runsDone (i32.ge_u (local.get $p) (local.get $end16)))
        (local.set $runEnd (i32.add (local.get $p) (i32.const 4096)))
        (if (i32.gt_u (local.get $runEnd) (local.get $end16)) (then (local.set $runEnd (local.get $end16))))
        ;; b += 16ka now, while a is the run's starting sum (k = bytes / 16).
        (local.set $b (i64.add (local.get $b)
          (i64.mul (local.get $a) (i64.extend_i32_u (i32.sub (local.get $runEnd) (local.get $p))))))
        (local.set $vs1 (v128.const i32x4 0 0 0 0))
        (local.set $vps (v128.const i32x4 0 0 0 0))
        (local.set $vs2 (v128.const i32x4 0 0 0 0))
        (loop $blocks
          (local.set $v (v128.load (local.get $p)))
          (local.set $vps (i32x4.add (local.get $vps) (local.get $vs1)))
          (local.set $vs1 (i32x4.add (local.get $vs1)
            (i32x4.extadd_pairwise_i16x8_u (i16x8.extadd_pairwise_i8x16_u (local.get $v)))))
          (local.set $vs2 (i32x4.add (local.get $vs2)
            (i32x4.extadd_pairwise_i16x8_u (i16x8.extmul_low_i8x16_u (local.get $v) (local.get $w)))))
          (local.set $vs2 (i32x4.add (local.get $vs2)
            (i32x4.extadd_pairwise_i16x8_u (i16x8.extmul_high_i8x16_u (local.get $v) (local.get $w)))))
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (br_if $blocks (i32.lt_u (local.get $p) (local.get $runEnd))))
        (local.set $b (i64.rem_u
          (i64.add (local.get $b)
            (i64.add (i64.shl (call $hsum (local.get $vps)) (i64.const 4)) (call $hsum (local.get $vs2))))
          (i64.const 65521)))
        (local.set $a (i64.rem_u (i64.add (local.get $a) (call $hsum (local.get $vs1))) (i64.const 65521)))
        (br $runs)))
    ;; The last len % 16 bytes, one at a time.
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $p) (local.get $len)))
        (local.set $a (i64.add (local.get $a) (i64.load8_u (local.get $p))))
        (local.set $b (i64.add (local.get $b) (local.get $a)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $tail)))
    (i32.or
      (i32.shl (i32.wrap_i64 (i64.rem_u (local.get $b) (i64.const 65521))) (i32.const 16))
      (i32.wrap_i64 (i64.rem_u (local.get $a) (i64.const 65521))))))
