"""A register-tiled matrix product micro-kernel, written as LLVM IR for numba: the inner loop
of a product that numba's loops over arrays could not keep in registers.

    tile(a, b, out, i0, j0)    out[i0:i0+R, j0:j0+V*L] = a[i0:i0+R, :] @ b[:, j0:j0+V*L]
    gather(a, b, table, out, i0, jb)
                               out[i0:i0+R, 0:V*L] = a[i0:i0+R, :] @ B[:, 0:V*L], B's row p
                               the run b[table[p] + jb:][:V*L] of the flat array b (the
                               shifted rows of a convolution's input, read in place)
    accumulate(a, b, out, i0, j0)
                               out[i0:i0+R, j0:j0+V*L] += a[i0:i0+R, :] @ b[:, j0:j0+V*L]

for b and out with unit stride along the last axis (any row stride) and a of any strides
(a transposed view too: its entries are broadcast one at a time), with R rows and V
vectors of L lanes (L = one 512-bit register of the dtype where the CPU has AVX-512, else
256-bit: 16 or 8 float32). The R*V accumulators are LLVM vector values carried by the loop
over k, so they live in registers for the whole sum: per k, V loads of b's row, R
broadcasts of a[i, k] and R*V fused multiply-adds (8x2 on AVX-512: 16 accumulators). A
loop over arrays, as scan_math.matmul_into's, loads and stores the output rows for every
few k instead; measured one thread, float32 (16, 128) @ (128, 512): 11.6 -> 7.8 us, and
(16, 512) @ (512, 128): 15.8 -> 7.8 us (133-181 -> 268-270 GFLOP/s).

Every output element is one chain of fused multiply-adds in k order, so a row's result
does not depend on which of these tiles computes it, except in the tiles of one or two rows
by two vectors (tile_rows1, tile_rows2), which keep `split` = 4 partial sums over
alternate k (added at the end): four times the chains in flight when too few rows hide the
latency. matmul_into gives them only the last rows of a product (fewer than four).

The intrinsics are built when the first kernel that calls them compiles (tiles(): from
scan_math's helper compile, or tile_jit for any kernel module), never at import. Users:
scan_math.matmul_into (the scans' per-step products), conv_tile.py (convolutions on the
flat layout), tile_gemm.py (the scans' weight gradients, and a small scan's input
gradient).
"""
__all__ = ["tiles", "vector_bytes", "tile_jit", "cache_salt"]

_built = {}
_width = []


def tile_jit(namespace, helpers=(), **options):
    """_jit.jit(**options) for a kernel that calls the tiles by name: they (and VECTOR_BYTES,
    the vector width) are bound in its module's namespace `namespace` before its first
    compile, with the module's plain functions named in `helpers` compiled to be inlined;
    its numba cache is dropped when this file, its module's or the vector width changed
    (numba keys it on its own file and the CPU's name only)."""
    from ._jit import _numba, flush_stale_cache, jit

    def prepare():
        namespace.update(tiles(), VECTOR_BYTES=vector_bytes())
        for name in helpers:
            if not hasattr(namespace[name], "py_func"):
                namespace[name] = _numba().njit(inline="always", error_model="numpy")(
                    namespace[name])

    def finish(dispatcher):
        flush_stale_cache(getattr(dispatcher, "_cache", None),
                          f"{namespace['__name__']}.{dispatcher.py_func.__name__}",
                          [namespace["__file__"], __file__], cache_salt())
    return jit(prepare=prepare, finish=finish, **options)


def cache_salt():
    """What besides the source files a compiled tile depends on: the vector width, fixed in
    the code (numba's cache of a kernel compiled for NUMBA_CPU_NAME=generic is shared by
    CPUs with and without AVX-512)."""
    return f"register_tile vector_bytes={vector_bytes()}"


def vector_bytes():
    """64 (AVX-512) or 32: the width of the vectors the tiles use on this CPU (asked of LLVM
    once: 125 us a call, and the convolution's path choice asks per call)."""
    if not _width:
        import llvmlite.binding as llvm
        features = llvm.get_host_cpu_features()
        _width.append(64 if features.get("avx512f", False) else 32)
    return _width[0]


def tiles():
    """{name: intrinsic}: tile_rows8, tile_rows4 (two vectors, sums in k order),
    tile_rows2, tile_rows1 (two vectors, four partial sums), tile_wide1 (one row, eight
    vectors in k order: eight chains without a split), tile_vector and tile_vector1 (eight
    rows / one row by one vector in k order: a last block of columns narrower than two);
    gather_rows8, 4, 2, 1 (two vectors, sums in k order); accumulate_rows8, 4, 2, 1
    (tile_rows8's form, out += a @ b: a long sum taken in chunks that stay in cache); and
    gather_ladder, accumulate_ladder: a range of rows by those tiles (_ladder)."""
    if not _built:
        _built.update(tile_rows8=_make_tile(8, 2, 1), tile_rows4=_make_tile(4, 2, 1),
                      tile_rows2=_make_tile(2, 2, 4), tile_rows1=_make_tile(1, 2, 4),
                      tile_wide1=_make_tile(1, 8, 1),
                      tile_vector=_make_tile(8, 1, 1), tile_vector1=_make_tile(1, 1, 1))
        _built.update({f"gather_rows{r}": _make_tile(r, 2, 1, gather=True)
                       for r in (8, 4, 2, 1)})
        _built.update({f"accumulate_rows{r}": _make_tile(r, 2, 1, accumulate=True)
                       for r in (8, 4, 2, 1)})
        for family in ("gather", "accumulate"):
            _built[f"{family}_ladder"] = _ladder(
                *(_built[f"{family}_rows{r}"] for r in (8, 4, 2, 1)))
    return _built


def _ladder(rows8, rows4, rows2, rows1):
    """ladder(lo, hi, j, args): rows lo <= i < hi of a product by one family's tiles, 8 rows
    at a time, then one tile of 4, 2 and 1 rows for the rest; each call tile(*args, i, j)
    (inlined where it is called)."""
    from ._jit import _numba

    def ladder(lo, hi, j, args):
        i = lo
        while hi - i >= 8:
            rows8(*args, i, j)
            i += 8
        if hi - i >= 4:
            rows4(*args, i, j)
            i += 4
        if hi - i >= 2:
            rows2(*args, i, j)
            i += 2
        if hi - i == 1:
            rows1(*args, i, j)
    return _numba().njit(inline="always")(ladder)


def _make_tile(rows, vectors, split, gather=False, accumulate=False):
    """The intrinsic tile(a, b, out, i0, j0) (gather: gather(a, b, table, out, i0, jb)) for
    `rows` rows of out (the caller keeps them within a's), `vectors` vectors of columns,
    `split` partial sums over k; accumulate: out += the product."""
    from numba.core import types
    from numba.extending import intrinsic

    def typed(a, b, out, table=None):
        matrices = (a, out) if gather else (a, b, out)
        if not all(isinstance(t, types.Array) and t.ndim == 2 and t.dtype == a.dtype
                   for t in matrices) or a.dtype not in (types.float32, types.float64):
            return False
        return not gather or (b.ndim == 1 and b.dtype == a.dtype and table.ndim == 1 and
                              table.dtype == types.int64)

    def codegen(context, builder, signature, args):
        _Emitter(context, builder, signature, args, gather).tile(rows, vectors, split,
                                                                 accumulate)
        return context.get_dummy_value()

    if gather:
        @intrinsic
        def gather_tile(typingctx, a, b, table, out, i0, jb):
            if not typed(a, b, out, table):
                return None
            return types.void(a, b, table, out, i0, jb), codegen
        return gather_tile

    @intrinsic
    def tile(typingctx, a, b, out, i0, j0):
        if not typed(a, b, out):
            return None
        return types.void(a, b, out, i0, j0), codegen
    return tile


class _Emitter:
    """The LLVM IR of one tile call: the arrays' pointers and strides, loads, broadcasts and
    the loop over k (args: a, b, [table,] out, i0, j0 as the intrinsic receives them)."""

    def __init__(self, context, builder, signature, args, gather):
        from llvmlite import ir
        from numba.core import cgutils, types
        self.ir, self.builder, self.gather = ir, builder, gather
        dtype = signature.args[0].dtype
        self.scalar = context.get_value_type(dtype)
        self.item = 4 if dtype == types.float32 else 8
        self.lanes = vector_bytes() // self.item
        self.vec = ir.VectorType(self.scalar, self.lanes)
        self.i64 = ir.IntType(64)
        arrays = 4 if gather else 3
        made = [context.make_array(t)(context, builder, v)
                for t, v in zip(signature.args[:arrays], args[:arrays])]
        self.a, self.b, self.out = made[0], made[1], made[-1]
        if gather:
            self.table = builder.bitcast(made[2].data, self.i64.as_pointer())
        self.i0, self.j0 = (context.cast(builder, v, t, types.int64)
                            for v, t in zip(args[arrays:], signature.args[arrays:]))
        self.fma = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(self.vec, [self.vec] * 3),
            f"llvm.fma.v{self.lanes}f{8 * self.item}")

    def const(self, value):
        return self.ir.Constant(self.i64, value)

    def byte_pointer(self, arr, offset):
        base = self.builder.bitcast(arr.data, self.ir.IntType(8).as_pointer())
        return self.builder.bitcast(self.builder.gep(base, [offset]), self.scalar.as_pointer())

    def element(self, arr, i, j):
        """Pointer to arr[i, j] (row stride from the array, unit column stride)."""
        row = self.builder.mul(i, self.builder.extract_value(arr.strides, 0))
        return self.builder.gep(self.byte_pointer(arr, row), [j])

    def a_element(self, i, p):
        """Pointer to a[i, p], both strides from the array (a may be a transposed view: its
        entries are only broadcast, one at a time)."""
        b, strides = self.builder, self.a.strides
        at = b.add(b.mul(i, b.extract_value(strides, 0)), b.mul(p, b.extract_value(strides, 1)))
        return self.byte_pointer(self.a, at)

    def b_row(self, p):
        """Pointer to B[p, j0] (gather: b[table[p] + jb] of the flat b)."""
        b = self.builder
        if self.gather:
            at = b.add(b.load(b.gep(self.table, [p])), self.j0)
            return b.gep(b.bitcast(self.b.data, self.scalar.as_pointer()), [at])
        return self.element(self.b, p, self.j0)

    def out_vector(self, r, v):
        """Pointer to out[i0 + r, j0 + lanes*v] (gather: out's columns start at the tile)."""
        column = self.const(self.lanes * v) if self.gather else \
            self.builder.add(self.j0, self.const(self.lanes * v))
        ptr = self.element(self.out, self.builder.add(self.i0, self.const(r)), column)
        return self.builder.bitcast(ptr, self.vec.as_pointer())

    def load_vector(self, ptr):
        return self.builder.load(self.builder.bitcast(ptr, self.vec.as_pointer()),
                                 align=self.item)

    def broadcast(self, value):
        ir, b = self.ir, self.builder
        one = b.insert_element(ir.Constant(self.vec, ir.Undefined), value,
                               ir.Constant(ir.IntType(32), 0))
        return b.shuffle_vector(one, ir.Constant(self.vec, ir.Undefined),
                                ir.Constant(ir.VectorType(ir.IntType(32), self.lanes), None))

    def tile(self, rows, vectors, split, accumulate):
        """The loop over k: accumulators acc[(part*rows + r)*vectors + v] += a[i0 + r, p] *
        B[p, j0 + lanes*v] for p = part mod split; then the parts summed pairwise and stored."""
        b = self.builder

        def step(p, part, accs):
            row = self.b_row(p)
            b_vecs = [self.load_vector(b.gep(row, [self.const(self.lanes * v)]))
                      for v in range(vectors)]
            new = list(accs)
            for r in range(rows):
                a_r = self.broadcast(b.load(self.a_element(b.add(self.i0, self.const(r)), p)))
                for v in range(vectors):
                    at = (part * rows + r) * vectors + v
                    new[at] = b.call(self.fma, [a_r, b_vecs[v], accs[at]])
            return new

        def unrolled(p, accs):                  # `split` consecutive k, a part each
            for part in range(split):
                accs = step(b.add(p, self.const(part)) if part else p, part, accs)
            return accs

        start = [self.ir.Constant(self.vec, None)] * (split * rows * vectors)
        if accumulate:                          # out's values as the first partial sums
            start[:rows * vectors] = [b.load(self.out_vector(r, v), align=self.item)
                                      for r in range(rows) for v in range(vectors)]
        k = b.extract_value(self.a.shape, 1)
        k_main = b.sub(k, b.srem(k, self.const(split)))
        accs = _counted_loop(b, self.const(0), k_main, split, start, unrolled)
        accs = _counted_loop(b, k_main, k, 1, accs, lambda p, accs: step(p, 0, accs))
        for r in range(rows):
            for v in range(vectors):
                parts = [accs[(part * rows + r) * vectors + v] for part in range(split)]
                while len(parts) > 1:           # pairwise: (s0 + s1) + (s2 + s3)
                    parts = [b.fadd(parts[q], parts[q + 1]) for q in range(0, len(parts), 2)]
                b.store(parts[0], self.out_vector(r, v), align=self.item)


def _counted_loop(builder, start, stop, stride, values, body):
    """for p in range(start, stop, stride): values = body(p, values); -> the final values
    (LLVM phi nodes carry them: registers, not memory)."""
    from llvmlite import ir
    i64 = ir.IntType(64)
    before = builder.block
    head = builder.append_basic_block("tile.head")
    loop = builder.append_basic_block("tile.body")
    after = builder.append_basic_block("tile.end")
    builder.branch(head)
    builder.position_at_end(head)
    p = builder.phi(i64)
    p.add_incoming(start, before)
    carried = []
    for v in values:
        phi = builder.phi(v.type)
        phi.add_incoming(v, before)
        carried.append(phi)
    builder.cbranch(builder.icmp_signed("<", p, stop), loop, after)
    builder.position_at_end(loop)
    new = body(p, carried)
    end = builder.block
    p.add_incoming(builder.add(p, ir.Constant(i64, stride)), end)
    for phi, v in zip(carried, new):
        phi.add_incoming(v, end)
    builder.branch(head)
    builder.position_at_end(after)
    return carried
