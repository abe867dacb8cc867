import CBLAS

/// Sets how many threads OpenBLAS uses (clients sharing a host want 1), and has OpenBLAS
/// prepare its working memory first (``prepareBLAS()``).
package func setBLASThreads(_ count: Int) {
    openblas_set_num_threads(Int32(count))
    prepareBLAS()
}

/// Has OpenBLAS write its packing buffer once, by one product of two 512 x 512 matrices of
/// zeros (about 7 ms and 3 MB, freed after), the first time a process calls it.
///
/// OpenBLAS's single-threaded sgemm kernels prefetch ahead of the panel they work on, into
/// the part of the buffer a product of a layer's shape never writes. Where a prefetch of a
/// page never touched is slow (measured on a KVM guest of an AMD EPYC of the first Zen
/// generation: the stall sat on that prefetch), every product of a first layer's shape
/// (1,000 x 784 by 784 x 200) ran at a third of this core's sgemm peak, until some product
/// with all three sides of about 400 or more had written the buffer: the server's
/// evaluation of 1,000 test images took 25 ms instead of 12 (README, "The server's
/// evaluation"). Every ``Network`` calls it when it is made. Only single-threaded products
/// were measured; with OpenBLAS's own threads the same product ran at full speed.
package func prepareBLAS() {
    _ = preparedBLAS
}

/// Lazily initialised once per process (a global's initialiser runs once, thread-safely).
private let preparedBLAS: Void = {
    let side = 512
    let zeros = [Float](repeating: 0, count: side * side)
    var product = [Float](repeating: 0, count: side * side)
    let n = Int32(side)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, zeros, n, zeros, n, 0, &product, n)
}()
