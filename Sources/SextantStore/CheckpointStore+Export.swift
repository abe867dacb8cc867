import Foundation

extension CheckpointStore {
    /// Writes checkpoint `version` of `run` (the latest if nil) as a `ModelFile` and
    /// returns what was written. Throws `.notFound` if there is no such checkpoint and
    /// `.invalidData` if its stored hash does not match its blob.
    @discardableResult
    package func export(run: String, version: Int? = nil, to url: URL) throws -> ModelFile {
        let (runRecord, checkpoint) = try checkpointForExport(run: run, version: version)
        let file = ModelFile(
            run: run, version: checkpoint.version, fingerprint: runRecord.fingerprint,
            parameters: checkpoint.parameters)
        try file.write(to: url)
        logger.info(
            "exported checkpoint",
            metadata: ["run": "\(run)", "version": "\(checkpoint.version)", "file": "\(url.path)"])
        return file
    }

    /// The run and checkpoint `version` of it (the latest if nil) for an export in any format.
    /// Throws `.notFound` if there is no such checkpoint and `.invalidData` if its stored hash
    /// does not match its blob: a damaged model is never handed out.
    package func checkpointForExport(run: String, version: Int? = nil) throws -> (Run, Checkpoint) {
        guard let runRecord = try self.run(id: run) else {
            throw StoreError(code: .notFound, "\(path): no run '\(run)'")
        }
        let found =
            try version.map { try checkpoint(run: run, version: $0) }
            ?? latestCheckpoint(run: run)
        guard let checkpoint = found else {
            throw StoreError(
                code: .notFound,
                "\(path): run '\(run)' has no checkpoint \(version.map(String.init) ?? "at all")")
        }
        // Never hand out a model that no longer matches what was committed.
        guard ParameterBlob.sha256Hex(checkpoint.parameters) == checkpoint.sha256 else {
            let sound = try? latestSoundCheckpoint(run: run).checkpoint?.version
            let hint =
                sound.map { "; the newest sound version is \($0): export it with --version \($0)" }
                ?? "; no checkpoint of the run is sound"
            throw StoreError(
                code: .invalidData,
                "\(path): checkpoint \(run)@\(checkpoint.version) fails its SHA-256 check\(hint) (run `sextant checkpoints verify` for the rest)"
            )
        }
        return (runRecord, checkpoint)
    }
}
