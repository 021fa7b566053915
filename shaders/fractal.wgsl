// rfm_perf: the fractal compute pass (Mandelbrot, Julia, Burning Ship) in f32 and df64.
//
// One invocation per pixel of the output texture. Each writes its colour and its iteration count,
// and every workgroup adds its iterations (nominal, and those really computed) to 64-bit totals
// (lo word + carry), its escaped pixels to a 64-bucket histogram of their iteration counts
// (log-linear, see escape_bucket; the escaped total is the histogram's sum), and its computed
// iterations to the cost of its 32×32-pixel tile. Every atomic counts: llvmpipe runs them one
// lane at a time.
//
// Pipeline variants (shader defs, so the variants not chosen cost nothing: llvmpipe executes
// both sides of every branch, masked):
// - COST_COLOURING: colour by cost — the iterations a pixel really ran on a log scale, through
//   the stops the host passes (the heatmap ramp then) — instead of the palette;
// - PIXEL_COUNTS: also write each pixel's iteration count (for comparisons and tests).
//
// Interior checks (`P.flags` bit 0): pixels inside the Mandelbrot set's main cardioid or period-2
// bulb (tested with an inward margin) are interior without iterating, and every kind detects
// periodic orbits (Brent: the orbit is saved at iterations 1, 2, 4, 8, … and compared exactly,
// in the pass's own precision, at every step). An escaping orbit can never repeat exactly, so
// escaping pixels keep exactly the counts and colours they have without the checks; interior
// pixels report `max_iter`, as without them.
// The Rust side lives in src/fractal/gpu/ (mod.rs: the uniform and results layout); the CPU
// twin of every formula is src/fractal/cpu.rs.

struct Params {
    // df64 values are (hi, lo) pairs.
    center_re: vec2<f32>,
    center_im: vec2<f32>,
    pixel: vec2<f32>,
    julia_re: vec2<f32>,
    julia_im: vec2<f32>,
    size: vec2<u32>,
    max_iter: u32,
    // 0 Mandelbrot, 1 Julia, 2 Burning Ship (the pipeline is specialised for it: see KIND)
    kind: u32,
    // bit 0: interior checks
    flags: u32,
    generation: u32,
    stop_count: u32,
    // smooth iterations per palette cycle
    period: f32,
    // cost tiles per row
    tiles_x: u32,
    // index of the first per-pixel count in `results.cells`
    counts_offset: u32,
    // escape-histogram buckets per octave: 2^sub_bits (log-linear, see escape_bucket)
    sub_bits: u32,
    // perturbation: points in `orbit`; the view centre's offset from the orbit's point and the
    // pixel size as extended-exponent numbers (mantissa · 2^exp)
    orbit_len: u32,
    offset_mant: vec2<f32>,
    pixel_mant: f32,
    pixel_exp: i32,
    offset_exp: i32,
    // sRGB colour in xyz, position 0..1 in w
    stops: array<vec4<f32>, 8>,
}

struct Totals {
    iterations_lo: atomic<u32>,
    iterations_hi: atomic<u32>,
    // unused (0): the escaped pixels are the histogram's sum
    escaped: u32,
    generation: atomic<u32>,
}

struct Results {
    totals: Totals,
    // always 0, written by the host when the buffer is created (see ZERO_BITS)
    zero_bits: u32,
    // iterations really run (the interior checks skip some), 64-bit (lo word + carry)
    computed_lo: atomic<u32>,
    computed_hi: atomic<u32>,
    pad: u32,
    // escaped pixels per bucket
    histogram: array<atomic<u32>, 64>,
    // the cost tiles' computed iterations (lo, hi) row-major, then one count per pixel at
    // `P.counts_offset`
    cells: array<atomic<u32>>,
}

// The fractal kind (0 Mandelbrot, 1 Julia, 2 Burning Ship, as `P.kind`) as a constant: each
// pipeline is built for one kind (the `KIND` shader def), so the other kinds' branches compile
// away instead of running masked in every iteration.
#ifdef KIND
const KIND: u32 = #{KIND}u;
#else
const KIND: u32 = 0u;
#endif

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var output: texture_storage_2d<rgba8unorm, write>;
@group(0) @binding(2) var<storage, read_write> results: Results;

// One point of the reference orbit's buffer (see src/fractal/gpu/reference.rs): Zₙ − Z₀ (exact
// before rounding; Julia's Z₀ is not 0) as extended-exponent number sm · 2^se. The passes read
// Zₙ from the textures below (one gather on llvmpipe); this buffer serves only Julia's
// extended-exponent rebasing.
struct OrbitPoint {
    sm: vec2<f32>,
    se: i32,
    pad: u32,
}

@group(0) @binding(5) var<storage, read> orbit: array<OrbitPoint>;

// The same orbit's f32 values, point m at texel (m % ORBIT_TEXTURE_WIDTH, m / …): xy = Zₘ,
// zw = Zₘ − Z₀. The f32 pass reads these: a texel fetch at a per-pixel index is one gather on a
// SIMD rasterizer (llvmpipe), where a storage-buffer load at one runs lane by lane.
@group(0) @binding(6) var orbit_f32: texture_storage_2d<rgba32float, read>;
const ORBIT_TEXTURE_WIDTH: u32 = 4096u;

fn orbit_texel(m: u32) -> vec4<f32> {
    return textureLoad(orbit_f32, vec2<u32>(m % ORBIT_TEXTURE_WIDTH, m / ORBIT_TEXTURE_WIDTH));
}

// The orbit's Zₘ as extended-exponent number, at the same texel: (mantissa x, y as f32 bits,
// exponent, 0). The extended-exponent pass reads these (Julia's Zₘ − Z₀ comes from `orbit`).
@group(0) @binding(7) var orbit_exp: texture_storage_2d<rgba32uint, read>;

fn orbit_exp_texel(m: u32) -> vec4<u32> {
    return textureLoad(orbit_exp, vec2<u32>(m % ORBIT_TEXTURE_WIDTH, m / ORBIT_TEXTURE_WIDTH));
}

// |z|² beyond which a point has escaped (radius 256, as on the CPU)
const R2: f32 = 65536.0;

var<workgroup> wg_iterations: atomic<u32>;
var<workgroup> wg_computed: atomic<u32>;
// one bucket per invocation (8 × 8 = 64)
var<workgroup> wg_histogram: array<atomic<u32>, 64>;

// Cost tiles are 32 pixels square: 4 × 4 workgroups.
const COST_TILE: u32 = 32u;

// Relative inward margin of the cardioid and bulb tests: a point counts as inside only when it
// is inside by this share of its distance to the boundary, so rounding never misjudges a
// boundary pixel.
const INTERIOR_MARGIN: f32 = 1e-3;
// Near the cardioid's cusp (1/4, 0) the boundary is closer than f32 rounding; no shortcut there.
const CUSP_GUARD2: f32 = 1e-8;

fn interior_checks() -> bool {
    return (P.flags & 1u) != 0u;
}

// The escape-histogram bucket of an escape at iteration n, log-linear with s = P.sub_bits: n
// itself below 2^(s+1), above that 2^s buckets per octave (the octave, then the s bits after
// the leading one). The same integer formula as `EscapeHistogram::bucket_of` on the CPU.
fn escape_bucket(n: u32) -> u32 {
    let s = P.sub_bits;
    if n < (2u << s) {
        return n;
    }
    let e = firstLeadingBit(n);
    return (e - s) * (1u << s) + (n >> (e - s));
}

// The periodicity check after step `n` (an f32 orbit sits in xy, zw = 0): whether `z` repeats
// the saved orbit value exactly; saves `z` at n = 1, 2, 4, 8, …
fn orbit_repeats(z: vec4<f32>, n: u32, saved: ptr<function, vec4<f32>>, next_save: ptr<function, u32>) -> bool {
    if all(z == *saved) {
        return true;
    }
    if n == *next_save {
        *saved = z;
        *next_save = *next_save * 2u;
    }
    return false;
}

// Whether c lies in the main cardioid or the period-2 bulb (Mandelbrot only), with the margin.
fn in_cardioid_or_bulb(c: vec2<f32>) -> bool {
    if KIND != 0u || !interior_checks() {
        return false;
    }
    // cardioid, star-shaped around its cusp (1/4, 0): scale c − 1/4 outward by (1 + margin)
    let d = (c - vec2<f32>(0.25, 0.0)) * (1.0 + INTERIOR_MARGIN);
    let q = dot(d, d);
    let cardioid = q > CUSP_GUARD2 && q * (q + d.x) < 0.25 * d.y * d.y;
    // bulb: |c + 1| < 1/4, less the margin
    let b = c + vec2<f32>(1.0, 0.0);
    let r = 0.25 * (1.0 - INTERIOR_MARGIN);
    return cardioid || dot(b, b) < r * r;
}

// Zero bits the compiler cannot see: loaded from a storage buffer at the start of each invocation.
// `opaque(x)` returns x unchanged, but through an integer XOR the optimizer cannot look through,
// so it cannot simplify or re-associate the error-free transformations below (e.g. (a + b) − a → b,
// or factor A·k − B·k into (A − B)·k). Measured on lavapipe (Mesa 22.3): multiplying by a runtime
// 1.0 protected single operations but not whole iterations, whose orbits drifted at f32 level.
var<private> ZERO_BITS: u32;

fn opaque(x: f32) -> f32 {
    return bitcast<f32>(bitcast<u32>(x) ^ ZERO_BITS);
}

// ---- df64 arithmetic (Knuth two-sum, Dekker split and two-product; no fma) ----

fn two_sum(a: f32, b: f32) -> vec2<f32> {
    let s = opaque(a + b);
    let bb = opaque(s - a);
    let e = (a - opaque(s - bb)) + (b - bb);
    return vec2<f32>(s, e);
}

fn quick_two_sum(a: f32, b: f32) -> vec2<f32> {
    let s = opaque(a + b);
    let e = b - opaque(s - a);
    return vec2<f32>(s, e);
}

fn split(a: f32) -> vec2<f32> {
    let t = opaque(4097.0 * a);
    let hi = t - opaque(t - a);
    return vec2<f32>(hi, a - hi);
}

fn two_prod(a: f32, b: f32) -> vec2<f32> {
    let p = opaque(a * b);
    let sa = split(a);
    let sb = split(b);
    let e = opaque(opaque(opaque(sa.x * sb.x - p) + sa.x * sb.y) + sa.y * sb.x) + sa.y * sb.y;
    return vec2<f32>(p, e);
}

fn df_add(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
    let s = two_sum(a.x, b.x);
    let t = two_sum(a.y, b.y);
    let u = quick_two_sum(s.x, s.y + t.x);
    return quick_two_sum(u.x, u.y + t.y);
}

fn df_mul(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
    let p = two_prod(a.x, b.x);
    return quick_two_sum(p.x, p.y + (a.x * b.y + a.y * b.x));
}

fn df_sqr(a: vec2<f32>) -> vec2<f32> {
    let p = two_prod(a.x, a.x);
    return quick_two_sum(p.x, p.y + 2.0 * a.x * a.y);
}

fn df_abs(a: vec2<f32>) -> vec2<f32> {
    return select(a, -a, a.x < 0.0);
}

// One iteration z → z² + c (or the Burning Ship's (|x| + i|y|)² + c) given x², y².
fn df_step(x: vec2<f32>, y: vec2<f32>, x2: vec2<f32>, y2: vec2<f32>, cr: vec2<f32>, ci: vec2<f32>) -> vec4<f32> {
    var xy: vec2<f32>;
    if KIND == 2u {
        xy = df_mul(df_abs(x), df_abs(y));
    } else {
        xy = df_mul(x, y);
    }
    let nx = df_add(df_add(x2, -y2), cr);
    let ny = df_add(df_add(xy, xy), ci);
    return vec4<f32>(nx, ny);
}

// ---- colouring ----

fn srgb_to_linear(c: vec3<f32>) -> vec3<f32> {
    let low = c / 12.92;
    let high = pow((c + vec3<f32>(0.055)) / 1.055, vec3<f32>(2.4));
    return select(high, low, c <= vec3<f32>(0.04045));
}

// The same gradient lookup as `Palette::color` on the CPU (interpolated in sRGB).
fn palette_color(mu: f32) -> vec3<f32> {
    let t = fract(mu / P.period);
    let count = max(P.stop_count, 2u);
    var i = 0u;
    loop {
        if i >= count || P.stops[i].w >= t {
            break;
        }
        i = i + 1u;
    }
    i = clamp(i, 1u, count - 1u);
    let a = P.stops[i - 1u];
    let b = P.stops[i];
    var f = 0.0;
    if b.w > a.w {
        f = (t - a.w) / (b.w - a.w);
    }
    return mix(a.xyz, b.xyz, f);
}

fn finish(gid: vec2<u32>, local_index: u32, inside_image: bool, n: u32, computed: u32, mag2: f32) {
    if inside_image {
#ifdef COST_COLOURING
        // log(1 + computed) / log(1 + max_iter), kept below 1 so the lookup does not wrap
        let t = log2(1.0 + f32(computed)) / log2(1.0 + f32(P.max_iter));
        let rgb = srgb_to_linear(palette_color(min(t, 0.99999) * P.period));
#else
        var rgb = vec3<f32>(0.0);
        if n < P.max_iter {
            // smooth iteration count n + 1 − log2(ln |z|)
            let mu = f32(n) + 1.0 - log2(0.5 * log(mag2));
            rgb = srgb_to_linear(palette_color(mu));
        }
#endif
        textureStore(output, vec2<i32>(gid), vec4<f32>(rgb, 1.0));
#ifdef PIXEL_COUNTS
        atomicStore(&results.cells[P.counts_offset + gid.y * P.size.x + gid.x], n);
#endif
        atomicAdd(&wg_iterations, n);
        atomicAdd(&wg_computed, computed);
        if n < P.max_iter {
            atomicAdd(&wg_histogram[escape_bucket(n)], 1u);
        }
    }
    if all(gid == vec2<u32>(0u)) {
        atomicStore(&results.totals.generation, P.generation);
    }
    workgroupBarrier();
    let bucket = atomicLoad(&wg_histogram[local_index]);
    if bucket > 0u {
        atomicAdd(&results.histogram[local_index], bucket);
    }
    if local_index == 0u {
        // 64 pixels × max_iter (≤ 2^24) fits a u32; the frame total carries into the high word
        let sum = atomicLoad(&wg_iterations);
        let old = atomicAdd(&results.totals.iterations_lo, sum);
        if old > 0xffffffffu - sum {
            atomicAdd(&results.totals.iterations_hi, 1u);
        }
        let done = atomicLoad(&wg_computed);
        let old_done = atomicAdd(&results.computed_lo, done);
        if old_done > 0xffffffffu - done {
            atomicAdd(&results.computed_hi, 1u);
        }
        // this invocation is the workgroup's corner, inside the image: its tile exists
        let tile = 2u * ((gid.y / COST_TILE) * P.tiles_x + gid.x / COST_TILE);
        let old_tile = atomicAdd(&results.cells[tile], done);
        if old_tile > 0xffffffffu - done {
            atomicAdd(&results.cells[tile + 1u], 1u);
        }
    }
}

// pixel offset from the view center in pixels: (px + 0.5 − w/2, −(py + 0.5 − h/2)), exact in f32
fn pixel_offset(gid: vec2<u32>) -> vec2<f32> {
    let s = vec2<f32>(P.size);
    return vec2<f32>(f32(gid.x) + 0.5 - s.x * 0.5, -(f32(gid.y) + 0.5 - s.y * 0.5));
}

@compute @workgroup_size(8, 8, 1)
fn fractal_f32(
    @builtin(global_invocation_id) gid3: vec3<u32>,
    @builtin(local_invocation_index) local_index: u32,
) {
    ZERO_BITS = results.zero_bits;
    let gid = gid3.xy;
    let inside_image = gid.x < P.size.x && gid.y < P.size.y;
    let k = pixel_offset(gid);
    let p = vec2<f32>(
        P.center_re.x + (k.x * P.pixel.x + P.center_re.y),
        P.center_im.x + (k.y * P.pixel.x + P.center_im.y),
    );
    var z = vec2<f32>(0.0);
    var c = p;
    if KIND == 1u {
        z = p;
        c = vec2<f32>(P.julia_re.x, P.julia_im.x);
    }
    var n = 0u;
    var mag2 = 0.0;
    let limit = select(0u, P.max_iter, inside_image);
    let periodicity = interior_checks();
    var saved = vec4<f32>(z, 0.0, 0.0);
    var next_save = 1u;
    var computed = 0u;
    if inside_image && in_cardioid_or_bulb(c) {
        n = limit;
    }
    loop {
        let x2 = z.x * z.x;
        let y2 = z.y * z.y;
        mag2 = x2 + y2;
        if n >= limit || mag2 > R2 {
            break;
        }
        var xy = z.x * z.y;
        if KIND == 2u {
            xy = abs(z.x) * abs(z.y);
        }
        z = vec2<f32>(x2 - y2 + c.x, 2.0 * xy + c.y);
        n = n + 1u;
        computed = computed + 1u;
        // an orbit that repeats exactly never escapes
        if periodicity && orbit_repeats(vec4<f32>(z, 0.0, 0.0), n, &saved, &next_save) {
            n = limit;
            break;
        }
    }
    finish(gid, local_index, inside_image, n, computed, mag2);
}

@compute @workgroup_size(8, 8, 1)
fn fractal_df64(
    @builtin(global_invocation_id) gid3: vec3<u32>,
    @builtin(local_invocation_index) local_index: u32,
) {
    ZERO_BITS = results.zero_bits;
    let gid = gid3.xy;
    let inside_image = gid.x < P.size.x && gid.y < P.size.y;
    let k = pixel_offset(gid);
    let pr = df_add(P.center_re, df_mul(P.pixel, vec2<f32>(k.x, 0.0)));
    let pi = df_add(P.center_im, df_mul(P.pixel, vec2<f32>(k.y, 0.0)));
    var x = vec2<f32>(0.0);
    var y = vec2<f32>(0.0);
    var cr = pr;
    var ci = pi;
    if KIND == 1u {
        x = pr;
        y = pi;
        cr = P.julia_re;
        ci = P.julia_im;
    }
    var n = 0u;
    var mag2 = 0.0;
    let limit = select(0u, P.max_iter, inside_image);
    let periodicity = interior_checks();
    var saved = vec4<f32>(x, y);
    var next_save = 1u;
    var computed = 0u;
    // the hi words are c to f32 precision: the margin covers the difference
    if inside_image && in_cardioid_or_bulb(vec2<f32>(cr.x, ci.x)) {
        n = limit;
    }
    loop {
        let x2 = df_sqr(x);
        let y2 = df_sqr(y);
        mag2 = x2.x + y2.x;
        if n >= limit || mag2 > R2 {
            break;
        }
        let z = df_step(x, y, x2, y2, cr, ci);
        x = z.xy;
        y = z.zw;
        n = n + 1u;
        computed = computed + 1u;
        if periodicity && orbit_repeats(z, n, &saved, &next_save) {
            n = limit;
            break;
        }
    }
    finish(gid, local_index, inside_image, n, computed, mag2);
}

// ---- perturbation (deep zoom) ----
//
// A pixel at c = C + δc (Julia: z₀ = Z₀ + δ₀) follows the reference orbit Zₘ computed on the
// CPU in full precision: zₙ = Zₘ + δ, δ ← 2Zₘδ + δ² + δc. Rebasing (Zhuoran): when
// |zₙ − Z₀| < |δ|, or the reference has no further point, the pixel continues from δ = zₙ − Z₀
// at m = 0, so δ stays small against Z and no glitch detection is needed. The CPU twin is
// deep/src/perturb.rs. The cardioid/bulb shortcut applies (c to f32 around the f64 centre); the
// periodicity check does not (an exact repeat of zₙ is not visible in the deltas).

// an exact power of two 2^d for d in [-126, 127]; 0 below
fn pow2(d: i32) -> f32 {
    if d < -126 {
        return 0.0;
    }
    return bitcast<f32>(u32(min(d, 127) + 127) << 23u);
}

// pixel offset from the view centre in complex units, as f32 deltas
fn pixel_delta_f32(k: vec2<f32>) -> vec2<f32> {
    return k * (P.pixel_mant * pow2(P.pixel_exp)) + P.offset_mant * pow2(P.offset_exp);
}


fn cmul(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
    return vec2<f32>(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);
}

// |a + b| − |a| without cancellation
fn diff_abs(a: f32, b: f32) -> f32 {
    let ab = a + b;
    if a >= 0.0 {
        return select(-(2.0 * a + b), b, ab >= 0.0);
    }
    return select(-b, 2.0 * a + b, ab > 0.0);
}

// the first point of the pixel's orbit in its perturbed form: (δ, δc)
fn perturbation_start(d: vec2<f32>) -> vec4<f32> {
    if KIND == 1u {
        return vec4<f32>(d, 0.0, 0.0);
    }
    return vec4<f32>(0.0, 0.0, d);
}

fn in_cardioid_or_bulb_near(k: vec2<f32>) -> bool {
    let c = vec2<f32>(P.center_re.x, P.center_im.x) + k * P.pixel.x;
    return in_cardioid_or_bulb(c);
}

@compute @workgroup_size(8, 8, 1)
fn fractal_perturbation(
    @builtin(global_invocation_id) gid3: vec3<u32>,
    @builtin(local_invocation_index) local_index: u32,
) {
    let gid = gid3.xy;
    let inside_image = gid.x < P.size.x && gid.y < P.size.y;
    let k = pixel_offset(gid);
    let start = perturbation_start(pixel_delta_f32(k));
    var d = start.xy;
    let dc = start.zw;
    let last = max(P.orbit_len, 1u) - 1u;
    var n = 0u;
    var m = 0u;
    let limit = select(0u, P.max_iter, inside_image);
    // the orbit's start, its point m, and its point m + 1 read one iteration ahead: the load
    // then never waits on the rebase decision it follows (after a rebase the next point is
    // Z₁, read once here)
    let first = orbit_texel(0u);
    let second = orbit_texel(min(1u, last));
    var zm = first.xy;
    var ahead = second;
    var z = zm + d;
    var mag2 = dot(z, z);
    if inside_image && in_cardioid_or_bulb_near(k) {
        n = limit;
    }
    // every step is computed: the count is the steps taken from here
    let skipped = n;
    loop {
        if n >= limit || mag2 > R2 {
            break;
        }
        if KIND == 2u {
            let nx = (2.0 * zm.x + d.x) * d.x - (2.0 * zm.y + d.y) * d.y;
            let dxy = zm.x * d.y + d.x * zm.y + d.x * d.y;
            d = vec2<f32>(nx, 2.0 * diff_abs(zm.x * zm.y, dxy)) + dc;
        } else {
            // 2Zδ + δ² + δc as one complex product: (2Z + δ)·δ + δc
            d = cmul(2.0 * zm + d, d) + dc;
        }
        m = m + 1u;
        n = n + 1u;
        let point = ahead;
        ahead = orbit_texel(min(m + 1u, last));
        let next = point.xy;
        z = next + d;
        mag2 = dot(z, z);
        // zₙ − Z₀: zₙ itself where Z₀ = 0 (Mandelbrot, Burning Ship)
        var r = z;
        var r2 = mag2;
        if KIND == 1u {
            r = point.zw + d;
            r2 = dot(r, r);
        }
        let rebase = mag2 <= R2 && (r2 < dot(d, d) || m >= last);
        d = select(d, r, rebase);
        m = select(m, 0u, rebase);
        zm = select(next, first.xy, rebase);
        ahead = select(ahead, second, rebase);
    }
    finish(gid, local_index, inside_image, n, n - skipped, mag2);
}

// An extended-exponent complex number m · 2^e, one exponent for both parts, the larger part's
// mantissa in [1, 2) once normalized; zero has e = FX_ZERO_EXP.
struct Fx {
    m: vec2<f32>,
    e: i32,
}

const FX_ZERO_EXP: i32 = -1000000;

fn fx_norm(m: vec2<f32>, e: i32) -> Fx {
    let big = max(abs(m.x), abs(m.y));
    if big == 0.0 {
        return Fx(vec2<f32>(0.0), FX_ZERO_EXP);
    }
    let eb = clamp(i32((bitcast<u32>(big) >> 23u) & 0xffu) - 127, -126, 126);
    return Fx(m * pow2(-eb), e + eb);
}

fn fx_add(a: Fx, b: Fx) -> Fx {
    let e = max(a.e, b.e);
    return fx_norm(a.m * pow2(a.e - e) + b.m * pow2(b.e - e), e);
}

fn fx_add3(a: Fx, b: Fx, c: Fx) -> Fx {
    let e = max(max(a.e, b.e), c.e);
    return fx_norm(a.m * pow2(a.e - e) + b.m * pow2(b.e - e) + c.m * pow2(c.e - e), e);
}

fn fx_neg(a: Fx) -> Fx {
    return Fx(-a.m, a.e);
}

// the value as f32 where it is in range (tiny values are 0, huge ones capped at 2^64)
fn fx_to_f32(a: Fx) -> vec2<f32> {
    return a.m * pow2(clamp(a.e, -200, 64));
}

// |a|² < |b|²
fn fx_smaller(a: Fx, b: Fx) -> bool {
    if a.e == FX_ZERO_EXP {
        return b.e != FX_ZERO_EXP;
    }
    let d = clamp(a.e - b.e, -100, 100);
    // the mantissas are in [1, 2) · √2: compare at the larger exponent
    if d <= 0 {
        let am = a.m * pow2(d);
        return dot(am, am) < dot(b.m, b.m);
    }
    let bm = b.m * pow2(-d);
    return dot(a.m, a.m) < dot(bm, bm);
}

fn texel_fx(t: vec4<u32>) -> Fx {
    return Fx(bitcast<vec2<f32>>(t.xy), bitcast<i32>(t.z));
}

// a real number as an Fx (imaginary part 0)
fn fx_real(x: f32, e: i32) -> Fx {
    return fx_norm(vec2<f32>(x, 0.0), e);
}

// |a + b| − |a| for real a, b (in the x parts) without cancellation
fn fx_diff_abs(a: Fx, b: Fx) -> Fx {
    let ab = fx_add(a, b);
    let two_a_b = fx_add(Fx(2.0 * a.m, a.e), b);
    if a.m.x >= 0.0 {
        if ab.m.x >= 0.0 {
            return b;
        }
        return fx_neg(two_a_b);
    }
    if ab.m.x > 0.0 {
        return two_a_b;
    }
    return fx_neg(b);
}

// one perturbed step δ ← f(Zₘ + δ) − f(Zₘ) + δc
fn fx_step(zm: Fx, d: Fx, dc: Fx) -> Fx {
    if KIND == 2u {
        // Burning Ship: Re = (2X + δx)δx − (2Y + δy)δy, Im = 2·(|XY + b| − |XY|),
        // b = X·δy + δx·(Y + δy)
        let a = fx_add(Fx(2.0 * zm.m, zm.e), d);
        let p = a.m * d.m;
        let re = fx_real(p.x - p.y, a.e + d.e);
        let y_dy = fx_add(fx_real(zm.m.y, zm.e), fx_real(d.m.y, d.e));
        let b = fx_add(
            fx_real(zm.m.x * d.m.y, zm.e + d.e),
            fx_real(d.m.x * y_dy.m.x, d.e + y_dy.e),
        );
        let im = fx_diff_abs(fx_real(zm.m.x * zm.m.y, 2 * zm.e), b);
        return fx_add3(re, Fx(vec2<f32>(0.0, 2.0 * im.m.x), im.e), dc);
    }
    return fx_add3(Fx(2.0 * cmul(zm.m, d.m), zm.e + d.e), Fx(cmul(d.m, d.m), 2 * d.e), dc);
}

@compute @workgroup_size(8, 8, 1)
fn fractal_perturbation_exp(
    @builtin(global_invocation_id) gid3: vec3<u32>,
    @builtin(local_invocation_index) local_index: u32,
) {
    let gid = gid3.xy;
    let inside_image = gid.x < P.size.x && gid.y < P.size.y;
    let k = pixel_offset(gid);
    let delta = fx_add(
        fx_norm(k * P.pixel_mant, P.pixel_exp),
        fx_norm(P.offset_mant, P.offset_exp),
    );
    let zero = Fx(vec2<f32>(0.0), FX_ZERO_EXP);
    var d = zero;
    var dc = delta;
    if KIND == 1u {
        d = delta;
        dc = zero;
    }
    let last = max(P.orbit_len, 1u) - 1u;
    var n = 0u;
    var m = 0u;
    var computed = 0u;
    let limit = select(0u, P.max_iter, inside_image);
    // as in the f32 pass: point m + 1 is read one iteration ahead, Z₁ once for the rebases
    let first = texel_fx(orbit_exp_texel(0u));
    let second = orbit_exp_texel(min(1u, last));
    var zm = first;
    var ahead = second;
    var zf = fx_to_f32(fx_add(zm, d));
    var mag2 = dot(zf, zf);
    if inside_image && in_cardioid_or_bulb_near(k) {
        n = limit;
    }
    loop {
        if n >= limit || mag2 > R2 {
            break;
        }
        d = fx_step(zm, d, dc);
        m = m + 1u;
        n = n + 1u;
        computed = computed + 1u;
        let next = texel_fx(ahead);
        ahead = orbit_exp_texel(min(m + 1u, last));
        let z = fx_add(next, d);
        zf = fx_to_f32(z);
        mag2 = dot(zf, zf);
        // zₙ − Z₀: zₙ itself where Z₀ = 0 (Mandelbrot, Burning Ship)
        var r = z;
        if KIND == 1u {
            let o = orbit[m];
            r = fx_add(Fx(o.sm, o.se), d);
        }
        zm = next;
        if mag2 <= R2 && (fx_smaller(r, d) || m >= last) {
            d = r;
            m = 0u;
            zm = first;
            ahead = second;
        }
    }
    finish(gid, local_index, inside_image, n, computed, mag2);
}

// ---- arithmetic self-test (layout: binding 0 = P, 3 = inputs, 4 = outputs, which the host
// fills with 1.0, so the opaque zero comes from a storage buffer here too) ----
// For each (a.hi, a.lo, b.hi, b.lo): (a + b, a · b) as (sum.hi, sum.lo, product.hi, product.lo).

@group(0) @binding(3) var<storage, read> test_in: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> test_out: array<vec4<f32>>;

// Orbit self-test: input (cr, ci) as df64 pairs; output z after `P.max_iter` Mandelbrot steps.
@compute @workgroup_size(64, 1, 1)
fn df64_orbit_selftest(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if i < arrayLength(&test_in) {
        ZERO_BITS = bitcast<u32>(test_out[i].x) ^ 0x3f800000u;
        let c = test_in[i];
        var x = vec2<f32>(0.0);
        var y = vec2<f32>(0.0);
        for (var n = 0u; n < P.max_iter; n = n + 1u) {
            let z = df_step(x, y, df_sqr(x), df_sqr(y), c.xy, c.zw);
            x = z.xy;
            y = z.zw;
        }
        test_out[i] = vec4<f32>(x, y);
    }
}

@compute @workgroup_size(64, 1, 1)
fn df64_selftest(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if i < arrayLength(&test_in) {
        ZERO_BITS = bitcast<u32>(test_out[i].x) ^ 0x3f800000u;
        let v = test_in[i];
        test_out[i] = vec4<f32>(df_add(v.xy, v.zw), df_mul(v.xy, v.zw));
    }
}
