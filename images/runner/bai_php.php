<?php
// PHP query-mode driver (images/runner/bai_proc.py ReplDriver, cmdPipe):
// one persistent php process; each line "TOKEN FILE" on fd $BAI_CMD_FD
// evals FILE at global scope, so variables, functions and classes persist
// between cells. A leading "<?php" is optional. Uncaught errors are shown on
// stderr with exit code 255 (php's own); a fatal error ends the process (the
// runner restarts it, state lost). stdin stays free: fgets(STDIN).
ini_set('display_errors', 'stderr');
ini_set('log_errors', '0');
error_reporting(E_ALL);
$__bai_cmds = fopen('php://fd/' . getenv('BAI_CMD_FD'), 'r');
while (($__bai_line = fgets($__bai_cmds)) !== false) {
    $__bai_parts = explode(' ', rtrim($__bai_line, "\n"), 2);
    if (count($__bai_parts) !== 2) continue;
    $__bai_src = file_get_contents($__bai_parts[1]);
    $__bai_src = preg_replace('/^\s*<\?php\b/', '', $__bai_src);
    $__bai_src = preg_replace('/\?>\s*$/', '', $__bai_src);
    $__bai_rc = 0;
    try {
        eval($__bai_src);
    } catch (Throwable $__bai_e) {
        fwrite(STDERR, 'PHP ' . get_class($__bai_e) . ': ' . $__bai_e->getMessage()
            . ' on line ' . $__bai_e->getLine() . "\n");
        $__bai_rc = 255;
    }
    echo $__bai_parts[0] . $__bai_rc . "\n";
    flush();
    fwrite(STDERR, $__bai_parts[0]);
}
