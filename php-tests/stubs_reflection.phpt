--TEST--
stubs/smtp.stub.php declares exactly what the extension has: functions, parameters (names, order, types, nullability, defaults), return types, classes, parents, public properties, methods
--EXTENSIONS--
smtp
--FILE--
<?php
/* The stub cannot be loaded next to the extension (same names), so a second PHP without the
 * extension (-n: no php.ini, no conf.d) runs this same file in "stub" mode: it loads the stub
 * and prints the same description of it as JSON. Then the two descriptions are compared. */

// Declared in the stub ahead of the extension: compared as soon as the extension has them.
const SMTP_STUB_AHEAD = ['SmtpDeliveryUnknownException', 'SmtpPartialDeliveryException'];

function smtp_stub_type(?ReflectionType $t): ?string {
    return $t === null ? null : (string) $t;
}

function smtp_stub_default(ReflectionParameter|ReflectionProperty $p): string {
    $has = $p instanceof ReflectionParameter ? $p->isDefaultValueAvailable() : $p->hasDefaultValue();
    return $has ? var_export($p->getDefaultValue(), true) : '(none)';
}

function smtp_stub_function(ReflectionFunctionAbstract $f): array {
    $d = [
        'return type' => smtp_stub_type($f->getReturnType()),
        'tentative return type' => smtp_stub_type($f->getTentativeReturnType()),
        'returns by reference' => $f->returnsReference(),
        'required parameters' => $f->getNumberOfRequiredParameters(),
        'parameters' => [],
    ];
    if ($f instanceof ReflectionMethod) {
        $d['modifiers'] = implode(' ', Reflection::getModifierNames($f->getModifiers()));
    }
    foreach ($f->getParameters() as $p) {
        $d['parameters'][$p->getPosition()] = [
            'name' => '$' . $p->getName(),
            'type' => smtp_stub_type($p->getType()),
            'nullable' => $p->allowsNull(),
            'optional' => $p->isOptional(),
            'default' => smtp_stub_default($p),
            'variadic' => $p->isVariadic(),
            'by reference' => $p->isPassedByReference(),
        ];
    }
    return $d;
}

function smtp_stub_class(ReflectionClass $c): array {
    $d = [
        'parent' => $c->getParentClass() ? $c->getParentClass()->getName() : null,
        'kind' => $c->isInterface() ? 'interface' : ($c->isTrait() ? 'trait' : 'class'),
        'modifiers' => implode(' ', Reflection::getModifierNames($c->getModifiers())),
        'interfaces' => $c->getInterfaceNames(),
        'constants' => $c->getConstants(),
        'public properties' => [],
        'methods' => [],
    ];
    sort($d['interfaces']);
    foreach ($c->getProperties(ReflectionProperty::IS_PUBLIC) as $p) {
        if ($p->getDeclaringClass()->getName() === $c->getName()) {
            $d['public properties']['$' . $p->getName()] = [
                'type' => smtp_stub_type($p->getType()),
                'static' => $p->isStatic(),
                'readonly' => $p->isReadOnly(),
                'default' => smtp_stub_default($p),
            ];
        }
    }
    foreach ($c->getMethods() as $m) {
        if ($m->getDeclaringClass()->getName() === $c->getName()) {
            $d['methods'][$m->getName() . '()'] = smtp_stub_function($m);
        }
    }
    ksort($d['public properties']);
    ksort($d['methods']);
    return $d;
}

/** @param string[] $functions @param string[] $classes */
function smtp_stub_describe(array $functions, array $classes): array {
    $d = ['functions' => [], 'classes' => []];
    foreach ($functions as $f) {
        $d['functions'][$f . '()'] = smtp_stub_function(new ReflectionFunction($f));
    }
    foreach ($classes as $c) {
        $d['classes'][$c] = smtp_stub_class(new ReflectionClass($c));
    }
    ksort($d['functions']);
    ksort($d['classes']);
    return $d;
}

if (($argv[1] ?? '') === 'stub') {
    $functions = get_defined_functions()['user'];
    $classes = get_declared_classes();
    require __DIR__ . '/../stubs/smtp.stub.php';
    echo json_encode(smtp_stub_describe(
        array_diff(get_defined_functions()['user'], $functions),
        array_diff(get_declared_classes(), $classes)
    )), "\n";
    exit(0);
}

// The extension, as loaded in this process.
$ext = new ReflectionExtension('smtp');
$extension = json_decode(json_encode(smtp_stub_describe(
    array_keys($ext->getFunctions()),
    $ext->getClassNames()
)), true);

// The stub, as a PHP without the extension sees it.
$proc = proc_open([PHP_BINARY, '-n', __FILE__, 'stub'], [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
$out = stream_get_contents($pipes[1]);
$err = stream_get_contents($pipes[2]);
$rc = proc_close($proc);
$stub = json_decode($out, true);
if ($rc !== 0 || !is_array($stub)) {
    echo "loading the stub failed (exit $rc):\n$out$err";
    exit(1);
}
foreach (SMTP_STUB_AHEAD as $c) {
    if (!isset($extension['classes'][$c])) {
        unset($stub['classes'][$c]);
    }
}

function smtp_stub_diff(mixed $stub, mixed $ext, string $path, array &$out): void {
    if (is_array($stub) && is_array($ext)) {
        foreach (array_unique(array_merge(array_keys($stub), array_keys($ext))) as $k) {
            $where = $path === '' ? (string) $k : "$path > $k";
            if (!array_key_exists($k, $ext)) {
                $out[] = "$where: in the stub, not in the extension";
            } elseif (!array_key_exists($k, $stub)) {
                $out[] = "$where: in the extension, not in the stub";
            } else {
                smtp_stub_diff($stub[$k], $ext[$k], $where, $out);
            }
        }
    } elseif ($stub !== $ext) {
        $out[] = sprintf('%s: stub %s, extension %s', $path, json_encode($stub), json_encode($ext));
    }
}

$diff = [];
smtp_stub_diff($stub, $extension, '', $diff);
echo $diff ? implode("\n", $diff) . "\n" : "the stub matches the extension\n";
printf(
    "compared: %d functions (%s), %d classes\n",
    count($extension['functions']),
    implode(', ', array_keys($extension['functions'])),
    count($extension['classes'])
);
?>
--EXPECTF--
the stub matches the extension
compared: 4 functions (smtp_diagnose(), smtp_oauth_login(), smtp_send(), smtp_stats()), %d classes
