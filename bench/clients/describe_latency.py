"""boto3 DescribeTrainingJob, N calls one after another against URL; prints p50 and p99 in ms as JSON."""
import json
import sys
import time

import boto3

url, job, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
sm = boto3.Session(aws_access_key_id="a", aws_secret_access_key="b", region_name="us-east-1").client("sagemaker", endpoint_url=url)
for _ in range(20):
    sm.describe_training_job(TrainingJobName=job)
times = []
for _ in range(n):
    t = time.perf_counter()
    sm.describe_training_job(TrainingJobName=job)
    times.append((time.perf_counter() - t) * 1000)
times.sort()
print(json.dumps({"p50": times[len(times) // 2], "p99": times[int(len(times) * 0.99)]}))
