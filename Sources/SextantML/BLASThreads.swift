import CBLAS

/// Sets how many threads OpenBLAS uses (clients sharing a host want 1).
package func setBLASThreads(_ count: Int) {
    openblas_set_num_threads(Int32(count))
}
