// A vitest reporter that ends the run with one plain line, "N passed, N failed, N skipped", for
// tools (CI) that read a run's closing line. It sits beside the default reporter.
export default class SummaryReporter {
  onTestRunEnd (testModules, unhandledErrors) {
    const counts = { passed: 0, failed: 0, skipped: 0 }
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state
        if (state === 'passed') counts.passed++
        else if (state === 'failed') counts.failed++
        else counts.skipped++
      }
    }
    if (unhandledErrors.length > 0) counts.failed += unhandledErrors.length
    process.stdout.write(`\n${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`)
  }
}
