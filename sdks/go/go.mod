module github.com/botcadence/go-sdk

go 1.19
