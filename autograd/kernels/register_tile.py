"""A register-tiled matrix product micro-kernel, written as LLVM IR for numba (the one piece of
the scans' per-step product that numba's loops could not express).

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

Every output element is one chain of fused multiply-adds in k order (as matmul_into's), so
a row's result does not depend on the tile that computes it; tiles of one or two rows
instead keep `split` = 4 partial sums over alternate k (added at the end), four times the
chains in flight when there are too few rows to hide the multiply-add latency.

The intrinsics are built when the first kernel that calls them compiles (tiles(), from
scan_math's helper compile), never at import.
"""
import functools

__all__ = ["tiles", "vector_bytes", "tile_jit"]

_built = {}


def tile_jit(namespace, **options):
    """_jit.jit(**options) for a kernel that calls the tiles by name: they (and VECTOR_BYTES,
    the vector width) are bound in its module's namespace `namespace` before its first
    compile, and its numba cache is dropped when this file changed (numba keys it on its own
    file only)."""
    from ._jit import flush_stale_cache, jit

    def wrap(py_func):
        kernel = jit(**options)(py_func)
        compiled = None

        def dispatcher():
            nonlocal compiled
            if compiled is None:
                namespace.update(tiles(), VECTOR_BYTES=vector_bytes())
                compiled = kernel.dispatcher()
                flush_stale_cache(getattr(compiled, "_cache", None),
                                  f"{namespace['__name__']}.{py_func.__name__}",
                                  [namespace["__file__"], __file__])
            return compiled

        @functools.wraps(py_func)
        def call(*args):
            return (compiled or dispatcher())(*args)
        call.py_func, call.dispatcher = py_func, dispatcher
        return call
    return wrap


def vector_bytes():
    """64 (AVX-512) or 32: the width of the vectors the tiles use on this CPU."""
    import llvmlite.binding as llvm
    features = llvm.get_host_cpu_features()
    return 64 if features.get("avx512f", False) else 32


def tiles():
    """{name: intrinsic}: tile_rows8, tile_rows4 (two vectors, sums in k order),
    tile_rows2, tile_rows1 (two vectors, four partial sums), tile_wide1 (one row, eight
    vectors in k order: eight chains without a split) and tile_vector (eight rows, one
    vector: a last block of columns narrower than two vectors); gather_rows8, 4, 2, 1 (two
    vectors, sums in k order); accumulate_rows8, 4, 2, 1 (tile_rows8's form, out += a @ b:
    a long sum taken in chunks that stay in cache)."""
    if not _built:
        _built.update(tile_rows8=_make_tile(8, 2, 1), tile_rows4=_make_tile(4, 2, 1),
                      tile_rows2=_make_tile(2, 2, 4), tile_rows1=_make_tile(1, 2, 4),
                      tile_wide1=_make_tile(1, 8, 1),
                      tile_vector=_make_tile(8, 1, 1), tile_vector1=_make_tile(1, 1, 4))
        _built.update({f"gather_rows{r}": _make_tile(r, 2, 1, gather=True)
                       for r in (8, 4, 2, 1)})
        _built.update({f"accumulate_rows{r}": _make_tile(r, 2, 1, accumulate=True)
                       for r in (8, 4, 2, 1)})
    return _built


def _make_tile(rows, vectors, split, gather=False, accumulate=False):
    """The intrinsic tile(a, b, out, i0, j0) (gather: gather(a, b, table, out, i0, jb)) for
    `rows` rows of out (the caller keeps them within a's), `vectors` vectors of columns,
    `split` partial sums over k; accumulate: out += the product."""
    from llvmlite import ir
    from numba.core import cgutils, types
    from numba.extending import intrinsic

    width = vector_bytes()

    def typed(a, b, out, table=None):
        matrices = (a, out) if gather else (a, b, out)
        if not all(isinstance(t, types.Array) and t.ndim == 2 and t.dtype == a.dtype
                   for t in matrices) or a.dtype not in (types.float32, types.float64):
            return False
        return not gather or (b.ndim == 1 and b.dtype == a.dtype and table.ndim == 1 and
                              table.dtype == types.int64)

    def codegen(context, builder, signature, args):
        scalar = context.get_value_type(signature.args[0].dtype)
        item = 4 if signature.args[0].dtype == types.float32 else 8
        lanes = width // item
        vec = ir.VectorType(scalar, lanes)
        i64 = ir.IntType(64)
        if gather:
            arr_a, arr_b, arr_table, arr_out = (context.make_array(t)(context, builder, v)
                                                for t, v in zip(signature.args[:4], args[:4]))
            b_flat = builder.bitcast(arr_b.data, scalar.as_pointer())
            table = builder.bitcast(arr_table.data, i64.as_pointer())
            i0v, j0v = (context.cast(builder, v, t, types.int64)
                        for v, t in zip(args[4:], signature.args[4:]))
        else:
            arr_a, arr_b, arr_out = (context.make_array(t)(context, builder, v)
                                     for t, v in zip(signature.args[:3], args[:3]))
            i0v, j0v = (context.cast(builder, v, t, types.int64)
                        for v, t in zip(args[3:], signature.args[3:]))
        fma = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(vec, [vec, vec, vec]),
            f"llvm.fma.v{lanes}f{8 * item}")
        k = builder.extract_value(arr_a.shape, 1)
        out_j0 = ir.Constant(i64, 0) if gather else j0v
        def element(arr, i, j):
            """Pointer to arr[i, j] (row stride from the array, unit column stride)."""
            stride = builder.extract_value(arr.strides, 0)
            base = builder.bitcast(arr.data, ir.IntType(8).as_pointer())
            row = builder.gep(base, [builder.mul(i, stride)])
            return builder.gep(builder.bitcast(row, scalar.as_pointer()), [j])

        def a_element(i, p):
            """Pointer to a[i, p], both of a's strides from the array (a may be a transposed
            view: its entries are only broadcast, one at a time)."""
            base = builder.bitcast(arr_a.data, ir.IntType(8).as_pointer())
            at = builder.add(builder.mul(i, builder.extract_value(arr_a.strides, 0)),
                             builder.mul(p, builder.extract_value(arr_a.strides, 1)))
            return builder.bitcast(builder.gep(base, [at]), scalar.as_pointer())

        def load_vector(ptr):
            return builder.load(builder.bitcast(ptr, vec.as_pointer()), align=item)

        def broadcast(value):
            one = builder.insert_element(ir.Constant(vec, ir.Undefined), value,
                                         ir.Constant(ir.IntType(32), 0))
            return builder.shuffle_vector(one, ir.Constant(vec, ir.Undefined),
                                          ir.Constant(ir.VectorType(ir.IntType(32), lanes),
                                                      None))

        def const(v):
            return ir.Constant(i64, v)

        def b_row(p):
            """Pointer to B[p, j0] (gather: b[table[p] + jb])."""
            if gather:
                at = builder.add(builder.load(builder.gep(table, [p])), j0v)
                return builder.gep(b_flat, [at])
            return element(arr_b, p, j0v)

        def step(p, part, accs):
            """accs[part] += a[i0 + r, p] * B[p, j0 + lanes*v] for every r, v."""
            row = b_row(p)
            b_vecs = [load_vector(builder.gep(row, [const(lanes * v)]))
                      for v in range(vectors)]
            new = list(accs)
            for r in range(rows):
                a_r = broadcast(builder.load(a_element(builder.add(i0v, const(r)), p)))
                for v in range(vectors):
                    at = (part * rows + r) * vectors + v
                    new[at] = builder.call(fma, [a_r, b_vecs[v], accs[at]])
            return new

        count = split * rows * vectors
        start = [ir.Constant(vec, None)] * count
        if accumulate:                  # out's values as the first partial sums
            start[:rows * vectors] = [
                load_vector(element(arr_out, builder.add(i0v, const(r)),
                                    builder.add(out_j0, const(lanes * v))))
                for r in range(rows) for v in range(vectors)]
        k_main = builder.sub(k, builder.srem(k, const(split)))
        accs = _counted_loop(builder, const(0), k_main, split, start,
                             lambda p, accs: _unrolled(builder, p, accs, split, step, const))
        accs = _counted_loop(builder, k_main, k, 1, accs,
                             lambda p, accs: step(p, 0, accs))
        for r in range(rows):
            for v in range(vectors):
                parts = [accs[(part * rows + r) * vectors + v] for part in range(split)]
                while len(parts) > 1:       # pairwise: (s0 + s1) + (s2 + s3)
                    parts = [builder.fadd(parts[q], parts[q + 1])
                             for q in range(0, len(parts), 2)]
                ptr = element(arr_out, builder.add(i0v, const(r)),
                              builder.add(out_j0, const(lanes * v)))
                builder.store(parts[0], builder.bitcast(ptr, vec.as_pointer()), align=item)
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


def _unrolled(builder, p, accs, split, step, const):
    """`split` consecutive k, each into its own partial sums."""
    for part in range(split):
        accs = step(builder.add(p, const(part)) if part else p, part, accs)
    return accs


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
