"""boto3 against sm-local api, as a user's script drives SageMaker: train, wait, model, endpoint
config, endpoint, wait, invoke, errors, delete. Prints one JSON object of what it saw.

Usage: python3 boto3_flow.py URL IMAGE SUFFIX   (the train channel is s3://bucket/data/train)
"""
import json
import sys

import boto3
from botocore.exceptions import ClientError, WaiterError

url, image, suffix = sys.argv[1:4]
session = boto3.Session(aws_access_key_id="sm-local", aws_secret_access_key="sm-local", region_name="us-east-1")
sm = session.client("sagemaker", endpoint_url=url)
runtime = session.client("sagemaker-runtime", endpoint_url=url)
fast = {"Delay": 1, "MaxAttempts": 300}
seen = {}

job = "boto3-train-" + suffix
sm.create_training_job(
    TrainingJobName=job,
    RoleArn="arn:aws:iam::000000000000:role/SageMakerRole",
    AlgorithmSpecification={"TrainingImage": image, "TrainingInputMode": "File"},
    HyperParameters={"epochs": "50"},
    InputDataConfig=[{"ChannelName": "train", "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://bucket/data/train"}}}],
    OutputDataConfig={"S3OutputPath": "s3://bucket/boto3-output"},
    ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
    StoppingCondition={"MaxRuntimeInSeconds": 600},
)
sm.get_waiter("training_job_completed_or_stopped").wait(TrainingJobName=job, WaiterConfig=fast)
d = sm.describe_training_job(TrainingJobName=job)
seen["status"] = d["TrainingJobStatus"]
seen["artifact"] = d["ModelArtifacts"]["S3ModelArtifacts"]
seen["creation_time_type"] = type(d["CreationTime"]).__name__
seen["request_id"] = bool(d["ResponseMetadata"].get("RequestId"))

# The container's output in CloudWatch Logs, as the SageMaker Python SDK reads it; the account from STS.
logs = session.client("logs", endpoint_url=url)
streams = logs.describe_log_streams(logGroupName="/aws/sagemaker/TrainingJobs", logStreamNamePrefix=job + "/")["logStreams"]
seen["log_streams"] = [s["logStreamName"].rsplit("-", 1)[0] for s in streams]
events = logs.get_log_events(logGroupName="/aws/sagemaker/TrainingJobs", logStreamName=streams[0]["logStreamName"], startFromHead=True)
seen["log_lines"] = [e["message"] for e in events["events"]][-1:]
again = logs.get_log_events(logGroupName="/aws/sagemaker/TrainingJobs", logStreamName=streams[0]["logStreamName"], nextToken=events["nextForwardToken"])
seen["log_end"] = [len(again["events"]), again["nextForwardToken"] == events["nextForwardToken"]]
seen["account"] = session.client("sts", endpoint_url=url).get_caller_identity()["Account"]
# What the SageMaker Python SDK's fit(logs=True) asks on each poll (session.logs_for_job, logs.multi_stream_iter).
sdk_streams = logs.describe_log_streams(logGroupName="/aws/sagemaker/TrainingJobs", logStreamNamePrefix=job + "/", orderBy="LogStreamName", limit=d["ResourceConfig"]["InstanceCount"])["logStreams"]
seen["sdk_reads"] = {
    "streams": len(sdk_streams),
    "secondary": d["SecondaryStatus"],
    "transitions": [t["Status"] for t in d["SecondaryStatusTransitions"]],
    "messages": all(t.get("StatusMessage") for t in d["SecondaryStatusTransitions"]),
    "failure_reason": "FailureReason" in d,
}

try:
    sm.describe_training_job(TrainingJobName="no-such-job-" + suffix)
except ClientError as e:
    seen["not_found"] = [e.response["Error"]["Code"], e.response["Error"]["Message"]]
try:
    sm.create_training_job(
        TrainingJobName=job, RoleArn="arn:aws:iam::000000000000:role/R",
        AlgorithmSpecification={"TrainingImage": image, "TrainingInputMode": "File"},
        OutputDataConfig={"S3OutputPath": "s3://bucket/x"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 60},
    )
except sm.exceptions.ResourceInUse as e:
    seen["in_use"] = e.response["Error"]["Code"]

model = "boto3-model-" + suffix
sm.create_model(ModelName=model, ExecutionRoleArn="arn:aws:iam::000000000000:role/R", PrimaryContainer={"Image": image, "ModelDataUrl": seen["artifact"]})
sm.create_endpoint_config(EndpointConfigName=model, ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": model, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}])
sm.create_endpoint(EndpointName=model, EndpointConfigName=model)
sm.get_waiter("endpoint_in_service").wait(EndpointName=model, WaiterConfig=fast)
answer = runtime.invoke_endpoint(EndpointName=model, ContentType="text/csv", Accept="application/json", Body=b"42.0,0.61,1.5,3\n95.0,0.12,12.0,0\n")
seen["predictions"] = [p["default"] for p in json.loads(answer["Body"].read())["predictions"]]
seen["variant"] = answer["InvokedProductionVariant"]
try:
    runtime.invoke_endpoint(EndpointName="nope-" + suffix, Body=b"x")
except ClientError as e:
    seen["runtime_not_found"] = e.response["Error"]["Code"]
seen["endpoints"] = [e["EndpointName"] for e in sm.get_paginator("list_endpoints").paginate(PaginationConfig={"PageSize": 1}).build_full_result()["Endpoints"]]
sm.delete_endpoint(EndpointName=model)
sm.get_waiter("endpoint_deleted").wait(EndpointName=model, WaiterConfig=fast)
sm.delete_endpoint_config(EndpointConfigName=model)
sm.delete_model(ModelName=model)
try:
    sm.describe_model(ModelName=model)
except ClientError as e:
    seen["model_gone"] = e.response["Error"]["Message"]
print(json.dumps(seen))
