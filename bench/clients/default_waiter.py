"""How long boto3's training_job_completed_or_stopped waiter takes, with its default settings, on a
short job: create it, wait() with no WaiterConfig, print the seconds of each as JSON."""
import json
import sys
import time

import boto3

url, image, name = sys.argv[1:4]
sm = boto3.Session(aws_access_key_id="a", aws_secret_access_key="b", region_name="us-east-1").client("sagemaker", endpoint_url=url)
sm.create_training_job(
    TrainingJobName=name, RoleArn="arn:aws:iam::000000000000:role/R",
    AlgorithmSpecification={"TrainingImage": image, "TrainingInputMode": "File"}, HyperParameters={"epochs": "20"},
    InputDataConfig=[{"ChannelName": "train", "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://bucket/train"}}}],
    OutputDataConfig={"S3OutputPath": "s3://bucket/out"},
    ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
    StoppingCondition={"MaxRuntimeInSeconds": 600},
)
job_started = time.perf_counter()
sm.get_waiter("training_job_completed_or_stopped").wait(TrainingJobName=name)
waited = time.perf_counter() - job_started
d = sm.describe_training_job(TrainingJobName=name)
job_seconds = d["TrainingEndTime"].timestamp() - d["CreationTime"].timestamp()
print(json.dumps({"job_seconds": round(job_seconds, 2), "default_wait_seconds": round(waited, 2)}))
