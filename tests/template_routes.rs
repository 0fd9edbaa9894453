//! template.yaml declares exactly the routes, functions and binaries of the route table
//! (`confer::http::routes`): no route, function or binary exists on one side only.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::path::PathBuf;

use confer::capabilities::Capability;
use confer::http::routes::{ROUTES, WS_AUTHORIZER_FUNCTION, WS_ROUTES};
use confer::inbound::{Source, TRIGGERS};
use serde_yaml::Value;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

fn template() -> Value {
    let path = repo_root().join("template.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    // CloudFormation short forms (!Ref, !Sub, !GetAtt, !If, ...) arrive as Value::Tagged.
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("template.yaml is not YAML: {e}"))
}

/// `customers-create` → `CustomersCreate`: the logical id stem of a function.
fn stem(function: &str) -> String {
    function
        .split('-')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

fn resources(t: &Value) -> &serde_yaml::Mapping {
    t.get("Resources").and_then(Value::as_mapping).expect("template has Resources")
}

fn of_type<'a>(t: &'a Value, ty: &str) -> Vec<(String, &'a Value)> {
    resources(t)
        .iter()
        .filter(|(_, r)| r.get("Type").and_then(Value::as_str) == Some(ty))
        .map(|(k, r)| (k.as_str().expect("logical ids are strings").to_string(), r))
        .collect()
}

fn prop<'a>(resource: &'a Value, name: &str) -> Option<&'a Value> {
    resource.get("Properties").and_then(|p| p.get(name))
}

/// The text of `!Sub "..."`, `{"Fn::Sub": "..."}` or a plain string.
fn sub_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Tagged(t) if t.tag == "!Sub" => t.value.as_str().map(str::to_string),
        Value::Mapping(m) => m.get("Fn::Sub").and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
}

/// The logical id of `!Ref X` or `{"Ref": "X"}`.
fn ref_target(v: &Value) -> Option<String> {
    match v {
        Value::Tagged(t) if t.tag == "!Ref" => t.value.as_str().map(str::to_string),
        Value::Mapping(m) => m.get("Ref").and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
}

/// Logical ids referenced as `${Id}` or `${Id.Attr}` inside a Sub string.
fn sub_refs(text: &str) -> Vec<String> {
    let mut refs = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let end = after.find('}').expect("unterminated ${ in Sub");
        let name = &after[..end];
        if !name.starts_with("AWS::") && !name.starts_with('!') {
            refs.push(name.split('.').next().unwrap_or(name).to_string());
        }
        rest = &after[end + 1..];
    }
    refs
}

/// Logical id → Binary of every AWS::Serverless::Function.
fn functions(t: &Value) -> BTreeMap<String, String> {
    of_type(t, "AWS::Serverless::Function")
        .into_iter()
        .map(|(id, r)| {
            let binary = r
                .get("Metadata")
                .and_then(|m| m.get("BuildProperties"))
                .and_then(|b| b.get("Binary"))
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("{id} has no Metadata.BuildProperties.Binary"));
            (id, binary.to_string())
        })
        .collect()
}

/// The function (binary name) a Lambda integration or authorizer URI invokes.
fn invoked_function(t: &Value, uri: &Value, what: &str) -> String {
    let text = sub_text(uri).unwrap_or_else(|| panic!("{what}: URI is not a Sub string"));
    let fns = functions(t);
    let targets: Vec<_> = sub_refs(&text).into_iter().filter(|r| fns.contains_key(r)).collect();
    assert_eq!(targets.len(), 1, "{what}: URI {text} must name exactly one function");
    fns[&targets[0]].clone()
}

/// Fails with the elements present on one side only.
fn assert_same<T: Ord + Debug + Clone>(what: &str, template: &BTreeSet<T>, code: &BTreeSet<T>) {
    if template == code {
        return;
    }
    let mut msg = format!("{what}: template.yaml and confer::http::routes disagree\n");
    for x in code.difference(template) {
        msg.push_str(&format!("  - missing from template.yaml: {x:?}\n"));
    }
    for x in template.difference(code) {
        msg.push_str(&format!("  + only in template.yaml:      {x:?}\n"));
    }
    panic!("{msg}");
}

#[test]
fn http_api_events_equal_the_cloud_routes() {
    let t = template();
    let mut declared = BTreeSet::new();
    for (id, r) in of_type(&t, "AWS::Serverless::Function") {
        let binary = functions(&t)[&id].clone();
        let Some(events) = prop(r, "Events").and_then(Value::as_mapping) else { continue };
        for (name, event) in events {
            if event.get("Type").and_then(Value::as_str) != Some("HttpApi") {
                continue;
            }
            let p = event.get("Properties").unwrap_or_else(|| panic!("{id}.{name:?} has no Properties"));
            let method = p.get("Method").and_then(Value::as_str).unwrap_or_else(|| panic!("{id}: HttpApi event without Method"));
            let path = p.get("Path").and_then(Value::as_str).unwrap_or_else(|| panic!("{id}: HttpApi event without Path"));
            assert_eq!(p.get("ApiId").and_then(ref_target).as_deref(), Some("HttpApi"), "{id}: event must attach to the HttpApi resource");
            // Public routes (and only they) opt out of the JWT authorizer.
            let no_authorizer = p.get("Auth").and_then(|a| a.get("Authorizer")).and_then(Value::as_str) == Some("NONE");
            let public = ROUTES.iter().any(|r| r.public && r.method.eq_ignore_ascii_case(method) && r.path == path);
            assert_eq!(
                no_authorizer, public,
                "{id}: {method} {path} without an authorizer: {no_authorizer}, public in the route table: {public}"
            );
            assert!(
                declared.insert((method.to_ascii_uppercase(), path.to_string(), binary.clone())),
                "{id}: duplicate event {method} {path}"
            );
        }
    }
    let expected: BTreeSet<_> =
        ROUTES.iter().filter(|r| r.cloud).map(|r| (r.method.to_string(), r.path.to_string(), r.function.to_string())).collect();
    assert!(!expected.is_empty());
    assert_same("REST routes (method, path, function)", &declared, &expected);
}

#[test]
fn websocket_routes_equal_ws_routes() {
    let t = template();
    let mut declared = BTreeSet::new();
    for (id, r) in of_type(&t, "AWS::ApiGatewayV2::Route") {
        let key = prop(r, "RouteKey").and_then(Value::as_str).unwrap_or_else(|| panic!("{id}: no RouteKey")).to_string();
        let target = prop(r, "Target").and_then(sub_text).unwrap_or_else(|| panic!("{id}: Target is not a Sub string"));
        let integration = target
            .strip_prefix("integrations/${")
            .and_then(|s| s.strip_suffix('}'))
            .unwrap_or_else(|| panic!("{id}: Target {target} is not integrations/${{Integration}}"));
        let i = resources(&t).get(integration).unwrap_or_else(|| panic!("{id}: integration {integration} does not exist"));
        assert_eq!(i.get("Type").and_then(Value::as_str), Some("AWS::ApiGatewayV2::Integration"), "{integration}");
        assert_eq!(prop(i, "IntegrationType").and_then(Value::as_str), Some("AWS_PROXY"), "{integration}");
        let function = invoked_function(&t, prop(i, "IntegrationUri").expect("IntegrationUri"), &id);
        let authorization = prop(r, "AuthorizationType").and_then(Value::as_str).unwrap_or("NONE");
        if key == "$connect" {
            assert_eq!(authorization, "CUSTOM", "$connect must run the REQUEST authorizer");
            let authorizer = prop(r, "AuthorizerId").and_then(ref_target).expect("$connect names its authorizer with !Ref");
            assert_eq!(resources(&t)[authorizer.as_str()].get("Type").and_then(Value::as_str), Some("AWS::ApiGatewayV2::Authorizer"));
        } else {
            // API Gateway only authorizes $connect; later frames carry the connection's context.
            assert_eq!(authorization, "NONE", "{key}: only $connect takes an authorizer");
        }
        assert!(declared.insert((key, function)), "{id}: duplicate WebSocket route");
    }
    let expected: BTreeSet<_> = WS_ROUTES.iter().map(|(k, f, _)| (k.to_string(), f.to_string())).collect();
    assert_same("WebSocket routes (route key, function)", &declared, &expected);
}

#[test]
fn the_connect_authorizer_runs_the_authorizer_function() {
    let t = template();
    let authorizers = of_type(&t, "AWS::ApiGatewayV2::Authorizer");
    assert_eq!(authorizers.len(), 1, "one WebSocket authorizer");
    let (id, a) = &authorizers[0];
    assert_eq!(prop(a, "AuthorizerType").and_then(Value::as_str), Some("REQUEST"), "{id}");
    assert_eq!(invoked_function(&t, prop(a, "AuthorizerUri").expect("AuthorizerUri"), id), WS_AUTHORIZER_FUNCTION);
}

#[test]
fn every_function_is_a_route_function_and_every_binary_is_deployed() {
    let t = template();
    let fns = functions(&t);
    for (id, binary) in &fns {
        assert_eq!(id, &format!("{}Function", stem(binary)), "logical id of binary {binary}");
        let f = &resources(&t)[id.as_str()];
        assert_eq!(f.get("Metadata").and_then(|m| m.get("BuildMethod")).and_then(Value::as_str), Some("rust-cargolambda"), "{id}");
        assert_eq!(prop(f, "Runtime").and_then(Value::as_str), Some("provided.al2023"), "{id}");
        assert_eq!(prop(f, "Handler").and_then(Value::as_str), Some("bootstrap"), "{id}");
        assert_eq!(prop(f, "CodeUri").and_then(Value::as_str), Some("."), "{id}: built from the workspace root");
        let arch: Vec<_> =
            prop(f, "Architectures").and_then(Value::as_sequence).expect("Architectures").iter().filter_map(Value::as_str).collect();
        assert_eq!(arch, ["x86_64"], "{id}");
        let bin = repo_root().join("functions/src/bin").join(format!("{binary}.rs"));
        assert!(bin.is_file(), "{id}: binary {binary} has no {}", bin.display());
        // Its own log group, with retention, is where it logs.
        let group = prop(f, "LoggingConfig")
            .and_then(|l| l.get("LogGroup"))
            .and_then(ref_target)
            .unwrap_or_else(|| panic!("{id}: no LoggingConfig.LogGroup"));
        let group = &resources(&t)[group.as_str()];
        assert_eq!(group.get("Type").and_then(Value::as_str), Some("AWS::Logs::LogGroup"), "{id}");
        assert!(prop(group, "RetentionInDays").is_some(), "{id}: log group without retention");
    }

    let deployed: BTreeSet<String> = fns.values().cloned().collect();
    let mut expected: BTreeSet<String> = ROUTES.iter().filter(|r| r.cloud).map(|r| r.function.to_string()).collect();
    expected.extend(WS_ROUTES.iter().map(|(_, f, _)| f.to_string()));
    expected.extend(TRIGGERS.iter().map(|t| t.function.to_string()));
    expected.extend(confer::inbound::RULES.iter().map(|r| r.function.to_string()));
    expected.extend(confer::inbound::CONSUMERS.iter().map(|c| c.function.to_string()));
    expected.extend(confer::inbound::STREAMS.iter().map(|c| c.function.to_string()));
    expected.insert(WS_AUTHORIZER_FUNCTION.to_string());
    assert_same("functions", &deployed, &expected);

    let mut binaries = BTreeSet::new();
    for entry in std::fs::read_dir(repo_root().join("functions/src/bin")).expect("functions/src/bin") {
        let path = entry.expect("dir entry").path();
        if path.extension().and_then(|e| e.to_str()) == Some("rs") {
            binaries.insert(path.file_stem().and_then(|s| s.to_str()).expect("utf-8 name").to_string());
        }
    }
    let undeployed: Vec<_> = binaries.difference(&deployed).collect();
    assert!(undeployed.is_empty(), "binaries in functions/src/bin without a function in template.yaml: {undeployed:?}");
}

#[test]
fn every_websocket_function_may_be_invoked_by_its_api() {
    let t = template();
    let fns = functions(&t);
    let mut permitted = BTreeSet::new();
    for (id, p) in of_type(&t, "AWS::Lambda::Permission") {
        assert_eq!(prop(p, "Principal").and_then(Value::as_str), Some("apigateway.amazonaws.com"), "{id}");
        let function = prop(p, "FunctionName").and_then(ref_target).unwrap_or_else(|| panic!("{id}: FunctionName is not !Ref"));
        let source = prop(p, "SourceArn").and_then(sub_text).unwrap_or_else(|| panic!("{id}: SourceArn is not a Sub string"));
        assert!(sub_refs(&source).contains(&"WebSocketApi".to_string()), "{id}: permission not scoped to the WebSocket API");
        permitted.insert(fns.get(&function).unwrap_or_else(|| panic!("{id}: {function} is not a function")).clone());
    }
    let mut expected: BTreeSet<String> = WS_ROUTES.iter().map(|(_, f, _)| f.to_string()).collect();
    expected.insert(WS_AUTHORIZER_FUNCTION.to_string());
    assert_same("Lambda permissions of the WebSocket API", &permitted, &expected);
}

#[test]
fn storage_notifications_equal_the_trigger_table_and_each_has_a_dead_letter_queue() {
    let t = template();
    let fns = functions(&t);
    let mut declared = BTreeSet::new();
    for (id, r) in of_type(&t, "AWS::Serverless::Function") {
        let Some(events) = prop(r, "Events").and_then(Value::as_mapping) else { continue };
        for (name, event) in events {
            if event.get("Type").and_then(Value::as_str) != Some("S3") {
                continue;
            }
            let p = event.get("Properties").unwrap_or_else(|| panic!("{id}.{name:?} has no Properties"));
            let bucket = p.get("Bucket").and_then(ref_target).unwrap_or_else(|| panic!("{id}: S3 event without !Ref Bucket"));
            let kinds = match p.get("Events") {
                Some(Value::String(s)) => vec![s.clone()],
                Some(Value::Sequence(v)) => v.iter().filter_map(Value::as_str).map(str::to_string).collect(),
                _ => panic!("{id}: S3 event without Events"),
            };
            let rules = p.get("Filter").and_then(|f| f.get("S3Key")).and_then(|k| k.get("Rules")).and_then(Value::as_sequence);
            let prefix = rules
                .into_iter()
                .flatten()
                .find(|r| r.get("Name").and_then(Value::as_str) == Some("prefix"))
                .and_then(|r| r.get("Value").and_then(Value::as_str))
                .unwrap_or("")
                .to_string();
            declared.insert((fns[&id].clone(), bucket, kinds.join(","), prefix));
            // Asynchronous: a failed event must land somewhere after Lambda's retries.
            let dlq = prop(r, "DeadLetterQueue").unwrap_or_else(|| panic!("{id}: an S3-triggered function needs a DeadLetterQueue"));
            assert_eq!(dlq.get("Type").and_then(Value::as_str), Some("SQS"), "{id}");
            let queue = dlq.get("TargetArn").and_then(|v| match v {
                Value::Tagged(tag) if tag.tag == "!GetAtt" => tag.value.as_str().map(|s| s.split('.').next().unwrap_or(s).to_string()),
                _ => None,
            });
            let queue = queue.unwrap_or_else(|| panic!("{id}: DeadLetterQueue.TargetArn is not !GetAtt Queue.Arn"));
            assert_eq!(resources(&t)[queue.as_str()].get("Type").and_then(Value::as_str), Some("AWS::SQS::Queue"), "{id}");
        }
    }
    let expected: BTreeSet<_> = TRIGGERS
        .iter()
        .map(|tr| match tr.source {
            Source::S3 { bucket, events, prefix } => (tr.function.to_string(), bucket.to_string(), events.join(","), prefix.to_string()),
        })
        .collect();
    assert_same("storage triggers (function, bucket, events, prefix)", &declared, &expected);
}

#[test]
fn eventbridge_rules_equal_the_rule_table_and_each_has_retries_and_dead_letter_queues() {
    let t = template();
    let fns = functions(&t);
    let mut declared = BTreeSet::new();
    for (id, r) in of_type(&t, "AWS::Serverless::Function") {
        let Some(events) = prop(r, "Events").and_then(Value::as_mapping) else { continue };
        for (name, event) in events {
            if event.get("Type").and_then(Value::as_str) != Some("EventBridgeRule") {
                continue;
            }
            let p = event.get("Properties").unwrap_or_else(|| panic!("{id}.{name:?} has no Properties"));
            let pattern = p.get("Pattern").unwrap_or_else(|| panic!("{id}: EventBridgeRule without Pattern"));
            let list = |v: Option<&Value>| -> Vec<String> {
                v.and_then(Value::as_sequence).into_iter().flatten().filter_map(Value::as_str).map(str::to_string).collect()
            };
            let source = list(pattern.get("source")).join(",");
            let detail_type = list(pattern.get("detail-type")).join(",");
            let detail = pattern.get("detail").and_then(Value::as_mapping).expect("a rule filters on detail");
            assert_eq!(detail.len(), 1, "{id}: one detail attribute");
            let (field, values) = detail.iter().next().expect("one");
            let event_types = format!("{}={}", field.as_str().unwrap_or_default(), list(Some(values)).join(","));
            declared.insert((fns[&id].clone(), source, detail_type, event_types));
            // Delivery failures go to the rule's DLQ; failures in the function to its own.
            assert!(p.get("RetryPolicy").is_some(), "{id}: a rule needs a RetryPolicy");
            let dlq = p.get("DeadLetterConfig").unwrap_or_else(|| panic!("{id}: a rule needs a DeadLetterConfig"));
            assert_eq!(dlq.get("Type").and_then(Value::as_str), Some("SQS"), "{id}");
            let on_failure = prop(r, "EventInvokeConfig")
                .and_then(|c| c.get("DestinationConfig"))
                .and_then(|d| d.get("OnFailure"))
                .unwrap_or_else(|| panic!("{id}: an EventBridge-invoked function needs EventInvokeConfig.DestinationConfig.OnFailure"));
            assert_eq!(on_failure.get("Type").and_then(Value::as_str), Some("SQS"), "{id}");
        }
    }
    let expected: BTreeSet<_> = confer::inbound::RULES
        .iter()
        .map(|r| {
            (
                r.function.to_string(),
                r.source.to_string(),
                r.detail_type.to_string(),
                format!("{}={}", r.detail_field, r.event_types.join(",")),
            )
        })
        .collect();
    assert_same("EventBridge rules (function, source, detail type, event types)", &declared, &expected);
}

/// The queue a `!GetAtt Queue.Arn` names.
fn get_att_resource(v: &Value) -> Option<String> {
    match v {
        Value::Tagged(tag) if tag.tag == "!GetAtt" => tag.value.as_str().map(|s| s.split('.').next().unwrap_or(s).to_string()),
        _ => None,
    }
}

#[test]
fn sqs_event_sources_equal_the_consumer_table_with_partial_failures_and_dead_letter_queues() {
    let t = template();
    let fns = functions(&t);
    let mut declared = BTreeSet::new();
    for (id, r) in of_type(&t, "AWS::Serverless::Function") {
        let Some(events) = prop(r, "Events").and_then(Value::as_mapping) else { continue };
        for (name, event) in events {
            if event.get("Type").and_then(Value::as_str) != Some("SQS") {
                continue;
            }
            let p = event.get("Properties").unwrap_or_else(|| panic!("{id}.{name:?} has no Properties"));
            let queue = p.get("Queue").and_then(get_att_resource).unwrap_or_else(|| panic!("{id}: Queue is not !GetAtt Queue.Arn"));
            let batch = p.get("BatchSize").and_then(Value::as_u64).unwrap_or_else(|| panic!("{id}: no BatchSize"));
            let responses: Vec<_> =
                p.get("FunctionResponseTypes").and_then(Value::as_sequence).into_iter().flatten().filter_map(Value::as_str).collect();
            assert_eq!(responses, ["ReportBatchItemFailures"], "{id}: failed messages must be reported alone");
            let q = &resources(&t)[queue.as_str()];
            assert_eq!(q.get("Type").and_then(Value::as_str), Some("AWS::SQS::Queue"), "{id}");
            let redrive = prop(q, "RedrivePolicy").unwrap_or_else(|| panic!("{queue}: a consumed queue needs a RedrivePolicy"));
            let dlq = redrive.get("deadLetterTargetArn").and_then(get_att_resource).expect("deadLetterTargetArn: !GetAtt Queue.Arn");
            assert_eq!(resources(&t)[dlq.as_str()].get("Type").and_then(Value::as_str), Some("AWS::SQS::Queue"), "{queue}'s DLQ");
            let receives = redrive.get("maxReceiveCount").and_then(Value::as_u64).expect("maxReceiveCount");
            // A message must stay hidden for as long as the function may work on it.
            let timeout = prop(r, "Timeout").and_then(Value::as_u64).expect("Timeout");
            let visibility = prop(q, "VisibilityTimeout").and_then(Value::as_u64).expect("VisibilityTimeout");
            assert!(visibility >= 6 * timeout, "{queue}: VisibilityTimeout {visibility} under six times {id}'s timeout {timeout}");
            declared.insert((fns[&id].clone(), queue, batch, receives, timeout));
        }
    }
    let expected: BTreeSet<_> = confer::inbound::CONSUMERS
        .iter()
        .map(|c| (c.function.to_string(), c.queue.to_string(), c.batch_size as u64, u64::from(c.max_receives), c.visibility_seconds))
        .collect();
    assert_same("queue consumers (function, queue, batch size, receives, timeout)", &declared, &expected);
}

#[test]
fn table_stream_consumers_equal_the_stream_table_with_bisection_partial_failures_and_a_dead_letter_queue() {
    let t = template();
    let fns = functions(&t);
    let table = &resources(&t)[confer::inbound::STREAM_TABLE];
    let view = prop(table, "StreamSpecification").and_then(|s| s.get("StreamViewType")).and_then(Value::as_str);
    assert_eq!(view, Some("KEYS_ONLY"), "consumers read items as they are now");
    let mut declared = BTreeSet::new();
    for (id, r) in of_type(&t, "AWS::Serverless::Function") {
        let Some(events) = prop(r, "Events").and_then(Value::as_mapping) else { continue };
        for (name, event) in events {
            if event.get("Type").and_then(Value::as_str) != Some("DynamoDB") {
                continue;
            }
            let p = event.get("Properties").unwrap_or_else(|| panic!("{id}.{name:?} has no Properties"));
            let stream = p.get("Stream").and_then(|v| match v {
                Value::Tagged(tag) if tag.tag == "!GetAtt" => tag.value.as_str().map(str::to_string),
                _ => None,
            });
            assert_eq!(stream, Some(format!("{}.StreamArn", confer::inbound::STREAM_TABLE)), "{id}");
            assert_eq!(p.get("BisectBatchOnFunctionError").and_then(Value::as_bool), Some(true), "{id}: a failing batch is halved");
            let responses: Vec<_> =
                p.get("FunctionResponseTypes").and_then(Value::as_sequence).into_iter().flatten().filter_map(Value::as_str).collect();
            assert_eq!(responses, ["ReportBatchItemFailures"], "{id}");
            let dlq =
                p.get("DestinationConfig").and_then(|d| d.get("OnFailure")).and_then(|o| o.get("Destination")).and_then(get_att_resource);
            assert_eq!(dlq.as_deref(), Some(confer::inbound::STREAM_DEAD_LETTERS), "{id}: failed records go to the dead-letter queue");
            assert!(
                granted_actions(&t, &id).iter().any(|(a, r)| a == "sqs:SendMessage" && r.contains(confer::inbound::STREAM_DEAD_LETTERS)),
                "{id}"
            );
            assert!(granted_actions(&t, &id).iter().any(|(a, r)| a == "dynamodb:GetRecords" && r.contains("/stream/")), "{id}");
            let batch = p.get("BatchSize").and_then(Value::as_u64).expect("BatchSize");
            let retries = p.get("MaximumRetryAttempts").and_then(Value::as_u64).expect("MaximumRetryAttempts");
            let prefix = p
                .get("FilterCriteria")
                .and_then(|f| f.get("Filters"))
                .and_then(Value::as_sequence)
                .and_then(|f| f.first())
                .and_then(|f| f.get("Pattern"))
                .and_then(Value::as_str)
                .map(|pattern| {
                    let pattern: serde_json::Value = serde_json::from_str(pattern).expect("the filter pattern is JSON");
                    assert_eq!(pattern["eventName"], serde_json::json!(["INSERT"]), "{id}");
                    pattern["dynamodb"]["Keys"]["pk"]["S"][0]["prefix"].as_str().expect("a key prefix").to_string()
                });
            declared.insert((fns[&id].clone(), batch, retries, prefix));
        }
    }
    let expected: BTreeSet<_> = confer::inbound::STREAMS
        .iter()
        .map(|c| (c.function.to_string(), c.batch_size as u64, u64::from(c.max_retries), c.key_prefix.map(str::to_string)))
        .collect();
    assert_same("stream consumers (function, batch size, retries, key prefix)", &declared, &expected);
}

/// Every function that records events may put outbox items (and only outbox items, unless its
/// own work puts other items), and none publishes to SNS but the relay.
#[test]
fn functions_with_events_write_outbox_items_only_under_the_outbox_prefix() {
    let t = template();
    let needs = capabilities_by_function();
    let mut checked = 0;
    for (id, binary) in functions(&t) {
        let Some(caps) = needs.get(&binary) else { continue };
        if !caps.contains(&Capability::Events) {
            continue;
        }
        let f = &resources(&t)[id.as_str()];
        let role = prop(f, "Role").and_then(get_att_resource).expect("role");
        let statements: Vec<&Value> = prop(&resources(&t)[role.as_str()], "Policies")
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
            .filter_map(|p| p.get("PolicyDocument").and_then(|d| d.get("Statement")).and_then(Value::as_sequence))
            .flatten()
            .collect();
        let outbox = statements
            .iter()
            .find(|st| st.get("Sid").and_then(Value::as_str) == Some("Outbox"))
            .unwrap_or_else(|| panic!("{id}: records events but has no Outbox statement"));
        let keys = outbox
            .get("Condition")
            .and_then(|c| c.get("ForAllValues:StringLike"))
            .and_then(|c| c.get("dynamodb:LeadingKeys"))
            .and_then(Value::as_sequence)
            .map(|v| v.iter().filter_map(Value::as_str).collect::<Vec<_>>());
        assert_eq!(keys, Some(vec!["OUTBOX#*"]), "{id}");
        checked += 1;
    }
    assert!(checked > 20, "{checked} functions record events");
}

/// Each deployed function's capabilities, from the route, WebSocket, trigger, rule, queue and
/// stream tables.
fn capabilities_by_function() -> BTreeMap<String, &'static [Capability]> {
    let mut needs: BTreeMap<String, &'static [Capability]> = BTreeMap::new();
    needs.extend(ROUTES.iter().filter(|r| r.cloud).map(|r| (r.function.to_string(), r.needs)));
    needs.extend(WS_ROUTES.iter().map(|(_, f, n)| (f.to_string(), *n)));
    needs.extend(TRIGGERS.iter().map(|t| (t.function.to_string(), t.needs)));
    needs.extend(confer::inbound::RULES.iter().map(|r| (r.function.to_string(), r.needs)));
    needs.extend(confer::inbound::CONSUMERS.iter().map(|c| (c.function.to_string(), c.needs)));
    needs.extend(confer::inbound::STREAMS.iter().map(|c| (c.function.to_string(), c.needs)));
    needs
}

/// Every action a function's role grants, with the text of the resources it is granted on.
fn granted_actions(t: &Value, function_id: &str) -> Vec<(String, String)> {
    let f = &resources(t)[function_id];
    let role = prop(f, "Role")
        .and_then(|v| match v {
            Value::Tagged(tag) if tag.tag == "!GetAtt" => tag.value.as_str().map(|s| s.split('.').next().unwrap_or(s).to_string()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{function_id}: Role is not !GetAtt Role.Arn"));
    let mut actions = Vec::new();
    for policy in prop(&resources(t)[role.as_str()], "Policies").and_then(Value::as_sequence).into_iter().flatten() {
        let statements = policy.get("PolicyDocument").and_then(|d| d.get("Statement")).and_then(Value::as_sequence);
        for st in statements.into_iter().flatten() {
            let resource = st.get("Resource").map(|r| serde_yaml::to_string(r).unwrap_or_default()).unwrap_or_default();
            match st.get("Action") {
                Some(Value::String(a)) => actions.push((a.clone(), resource.clone())),
                Some(Value::Sequence(v)) => actions.extend(v.iter().filter_map(Value::as_str).map(|a| (a.to_string(), resource.clone()))),
                _ => {}
            }
        }
    }
    actions
}

/// Each function's environment is exactly what its capabilities read, and its role grants a
/// capability's actions only to functions that have it: no function carries configuration or
/// permissions for clients it never builds.
#[test]
fn each_function_is_configured_and_permitted_for_its_capabilities_only() {
    let t = template();
    let needs = capabilities_by_function();
    for (id, binary) in functions(&t) {
        let Some(caps) = needs.get(&binary) else { continue };
        let f = &resources(&t)[id.as_str()];
        let env: BTreeSet<String> = prop(f, "Environment")
            .and_then(|e| e.get("Variables"))
            .and_then(Value::as_mapping)
            .map(|m| m.keys().filter_map(Value::as_str).filter(|k| *k != "RUST_LOG").map(str::to_string).collect())
            .unwrap_or_default();
        let expected: BTreeSet<String> = caps.iter().flat_map(|c| c.env().iter().map(|s| s.to_string())).collect();
        assert_eq!(env, expected, "{id}: environment of capabilities {caps:?}");
        let actions = granted_actions(&t, &id);
        for cap in Capability::ALL {
            for (prefix, resource) in cap.grants() {
                let granted = actions.iter().any(|(a, r)| a.starts_with(prefix) && r.contains(resource));
                assert!(!granted || caps.contains(&cap), "{id}: grants {prefix}* on {resource:?} without the capability {cap:?}");
                // Everything but the table and live connections always needs its grant (a live
                // function may only record connections, as $connect does).
                if !matches!(cap, Capability::Table | Capability::Live) && caps.contains(&cap) {
                    assert!(granted, "{id}: has {cap:?} but no {prefix}* permission on {resource:?}");
                }
            }
        }
    }
}

#[test]
fn agents_sign_in_through_the_hosted_ui_and_every_token_client_is_trusted() {
    let t = template();
    let r = resources(&t);
    // The web client's app client: authorization code (with PKCE: no secret), back to the web origin.
    let web = &r[&Value::from("UserPoolClient")];
    assert_eq!(prop(web, "GenerateSecret"), Some(&Value::Bool(false)), "a browser cannot keep a secret");
    assert_eq!(prop(web, "AllowedOAuthFlows").and_then(Value::as_sequence).map(|s| s.len()), Some(1));
    assert_eq!(prop(web, "AllowedOAuthFlows").and_then(|f| f[0].as_str()), Some("code"));
    let callbacks = serde_yaml::to_string(prop(web, "CallbackURLs").expect("CallbackURLs")).unwrap();
    assert!(callbacks.contains("https://${WebDistribution.DomainName}"), "the hosted UI returns to the web client: {callbacks}");
    assert!(r.contains_key(&Value::from("UserPoolDomain")), "a hosted UI domain");
    // The web client may call the hosted UI's token endpoint.
    let headers = serde_yaml::to_string(&r[&Value::from("WebSecurityHeaders")]).unwrap();
    assert!(headers.contains("https://${UserPoolDomain}.auth.${AWS::Region}.amazoncognito.com"), "CSP connect-src names the hosted UI");
    // Tokens of both app clients are accepted by the HTTP API and by the WebSocket authorizer.
    let api = serde_yaml::to_string(&r[&Value::from("HttpApi")]).unwrap();
    for client in ["UserPoolClient", "IntegrationClient"] {
        assert!(api.contains(&format!("!Ref {client}")) || api.contains(&format!("Ref: {client}")), "HTTP API audience lacks {client}");
    }
    let authorizer =
        serde_yaml::to_string(&r[&Value::from(format!("{}Function", stem(confer::http::routes::WS_AUTHORIZER_FUNCTION)))]).unwrap();
    assert!(authorizer.contains("${UserPoolClient},${IntegrationClient}"), "the WebSocket authorizer's audiences");
    let integration = &r[&Value::from("IntegrationClient")];
    let flows = serde_yaml::to_string(prop(integration, "ExplicitAuthFlows").unwrap()).unwrap();
    assert!(flows.contains("ALLOW_USER_PASSWORD_AUTH") && !flows.contains("ADMIN"), "a backend signs in with a password only");
}

#[test]
fn helpers_read_cloudformation_forms() {
    assert_eq!(stem("customer-sessions-list"), "CustomerSessionsList");
    assert_eq!(sub_refs("arn:${AWS::Partition}:x:${WsSendFunction.Arn}/${Stage}"), ["WsSendFunction", "Stage"]);
    let v: Value = serde_yaml::from_str("a: !Sub \"integrations/${X}\"\nb: !Ref Y\nc: {\"Fn::Sub\": \"z\"}").unwrap();
    assert_eq!(sub_text(&v["a"]).as_deref(), Some("integrations/${X}"));
    assert_eq!(ref_target(&v["b"]).as_deref(), Some("Y"));
    assert_eq!(sub_text(&v["c"]).as_deref(), Some("z"));
}
